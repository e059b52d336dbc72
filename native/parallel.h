// A small persistent thread pool for elementwise kernels: parallelFor splits [0, n) into one
// contiguous chunk per core and runs the chunks at once (the calling thread takes the first).
// Work below a size threshold runs inline, where waking a thread would cost more than it saves.
#pragma once

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

// Threads parallelFor uses (including the caller).
int poolThreads();

}  // namespace vaekit
