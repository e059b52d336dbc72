// A small persistent thread pool for elementwise kernels: parallelFor splits [0, n) into one
// contiguous chunk per core and runs the chunks at once (the calling thread takes the first).
// Work below a size threshold runs inline, where waking a thread would cost more than it saves.
#pragma once

#include <algorithm>
#include <cstddef>

namespace vaekit {

// The signature of a chunk body: process [begin, end) with `context`.
using ChunkFn = void (*)(void* context, size_t begin, size_t end);

// Runs fn over [0, n) in parallel when n >= 2 * minPerThread, else inline. Chunk boundaries are
// multiples of `align` (e.g. a row length), so a row is never split.
void parallelFor(size_t n, size_t minPerThread, size_t align, ChunkFn fn, void* context);

// Convenience for lambdas: parallelFor(n, minPerThread, align, [&](size_t b, size_t e) { ... }).
template <typename F>
void parallelFor(size_t n, size_t minPerThread, size_t align, F&& body) {
  parallelFor(
      n, minPerThread, align,
      [](void* ctx, size_t b, size_t e) { (*static_cast<F*>(ctx))(b, e); },
      static_cast<void*>(&body));
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
    for (size_t u = first; u < last; u++) body(std::min(n, aligns * u / units * align), std::min(n, aligns * (u + 1) / units * align));
  });
}

// Makes parallelFor run inline on the calling thread (on) or over the pool again (off); a
// thread-local setting (the data-parallel step's threads run their shards' kernels serially).
void setSerialHere(bool on);

// Threads parallelFor uses (including the caller).
int poolThreads();

}  // namespace vaekit
