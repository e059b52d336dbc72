// A small persistent thread pool for elementwise kernels: parallelFor splits [0, n) into one
// contiguous chunk per core and runs the chunks at once (the calling thread takes the first).
// Work below a size threshold runs inline, where waking a thread would cost more than it saves.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace vaekit {

// The signature of a chunk body: process [begin, end) with `context`.
using ChunkFn = void (*)(void* context, size_t begin, size_t end);

// Runs fn over [0, n) in parallel when n >= 2 * minPerThread, else inline. Chunk boundaries are
// multiples of `align` (e.g. a row length), so a row is never split.
void parallelFor(size_t n, size_t minPerThread, size_t align, ChunkFn fn, void* context);

// Convenience for lambdas: parallelFor(n, minPerThread, align, [&](size_t b, size_t e) { ... }).
template <typename F>
void parallelFor(size_t n, size_t minPerThread, size_t align, F&& body) {
  using Body = std::remove_reference_t<F>;  // a lambda passed by name is an lvalue: F is Body&
  parallelFor(
      n, minPerThread, align,
      [](void* ctx, size_t b, size_t e) { (*static_cast<Body*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// Where part u of [0, n) cut into `units` parts of whole `align`s begins (part `units` begins at n).
inline size_t unitStart(size_t n, size_t units, size_t align, size_t u) {
  const size_t aligns = (n + align - 1) / align;
  return std::min(n, aligns * u / units * align);
}

// Runs body(begin, end) over [0, n) cut into `units` parts of a whole number of `align`s (as even
// as that allows; fewer where there are fewer aligns), the parts spread over the pool. The caller
// picks `units` from the shapes alone, never from the number of threads, so that each part is
// computed the same way on any number of threads: kernels whose result would depend on how the
// work is cut (a product's kernel choice by its size, partial sums) use this, and a training run
// gives the same bits on 1 or 64 threads (issue 22).
template <typename F>
void parallelUnits(size_t n, size_t units, size_t align, F&& body) {
  if (n == 0) return;
  if (align < 1) align = 1;
  const size_t aligns = (n + align - 1) / align;
  units = std::max<size_t>(1, std::min(units, aligns));
  parallelFor(units, 1, 1, [&](size_t first, size_t last) {
    for (size_t u = first; u < last; u++) body(unitStart(n, units, align, u), unitStart(n, units, align, u + 1));
  });
}

// The units a layer's weights W [rows, columns] are cut into by their rows: at most 8 bands of at
// least 64 rows, in multiples of 16 (unitStart(rows, units, 16, u)), from `rows` alone. oneDNN's
// products of a batch with W cut W so (dnnl.cc, runProduct) and Adam cuts W's update so (adam.cc),
// so that each thread reads and writes the same rows of W in a step: parallelFor gives thread t of
// T the units [units * t / T, units * (t + 1) / T) in both.
inline size_t weightRowUnits(size_t rows) { return std::min<size_t>(8, (rows + 63) / 64); }

// Makes parallelFor run inline on the calling thread (on) or over the pool again (off); a
// thread-local setting (the data-parallel step's threads run their shards' kernels serially).
void setSerialHere(bool on);

// Threads parallelFor uses (including the caller).
int poolThreads();

}  // namespace vaekit
