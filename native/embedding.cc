// The sequence layers' copies: the token embedding's lookup and its backward, a scatter-add into
// the table's gradient (embeddingGather and embeddingScatterAdd in src/engine/backend.ts; id 0 is
// <pad>: a zero vector forward, no gradient back), and swapAxes, the recurrent layers' batch-major
// <-> time-major copies.
//
// The gather splits positions across the cores. The scatter-add splits the table's columns instead
// (every thread walks all positions in order, adding its own columns), so that each gradient
// element gets its additions in position order whatever the number of threads.
#include <cstdint>
#include <cstring>

#include "args.h"
#include "bindings.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

// These are copies, bound by memory rather than arithmetic: a text batch's 1280 x 256 values take
// 30-40 us on one core of a 2-core EPYC, and 90-150 us split over its two (measured while other
// work ran there: the hand-off costs more than the second core saves). Only copies of millions of
// values are split.
constexpr size_t kMinParallel = 1 << 20;

void gather(const float* table, size_t dim, const int32_t* ids, float* out, size_t first, size_t last) {
  for (size_t p = first; p < last; p++) {
    const int32_t id = ids[p];
    if (id == 0) {
      std::memset(out + p * dim, 0, dim * sizeof(float));
    } else {
      std::memcpy(out + p * dim, table + static_cast<size_t>(id) * dim, dim * sizeof(float));
    }
  }
}

VAEKIT_SIMD_CLONES
void scatterAdd(const float* dOut, const int32_t* ids, size_t positions, size_t dim, float* grad,
                size_t c0, size_t c1) {
  for (size_t p = 0; p < positions; p++) {
    const int32_t id = ids[p];
    if (id == 0) continue;
    float* __restrict g = grad + static_cast<size_t>(id) * dim;
    const float* __restrict d = dOut + p * dim;
    for (size_t j = c0; j < c1; j++) g[j] += d[j];
  }
}

// dst rows [first, last) of swapAxes: dst[j, i] = src[i, j] (or 0 past lengths[j]).
void swapRows(const float* src, size_t a, size_t b, size_t cols, float* dst, const int32_t* lengths,
              size_t first, size_t last) {
  for (size_t r = first; r < last; r++) {
    const size_t j = r / a;
    const size_t i = r % a;
    float* to = dst + r * cols;
    if (lengths == nullptr || static_cast<int64_t>(i) < lengths[j]) {
      std::memcpy(to, src + (i * b + j) * cols, cols * sizeof(float));
    } else {
      std::memset(to, 0, cols * sizeof(float));
    }
  }
}

// Fails (a RangeError) unless each of the first `positions` ids lies in [0, vocab).
bool checkIds(Args& args, const int32_t* ids, uint64_t positions, uint64_t vocab) {
  for (uint64_t p = 0; p < positions; p++) {
    const int64_t id = ids[p];
    if (id < 0 || static_cast<uint64_t>(id) >= vocab) {
      args.fail("id %lld at position %llu is outside the vocabulary [0, %llu)", static_cast<long long>(id),
                static_cast<unsigned long long>(p), static_cast<unsigned long long>(vocab));
      return false;
    }
  }
  return true;
}

}  // namespace

// embeddingGather(table, vocab, dim, ids, positions, out)
napi_value EmbeddingGather(napi_env env, napi_callback_info info) {
  Args args(env, info, "embeddingGather");
  const uint64_t vocab = args.size(1, "vocab");
  const uint64_t dim = args.size(2, "dim");
  const uint64_t positions = args.size(4, "positions");
  const float* table = args.floats(0, "table", vocab * dim);
  const int32_t* ids = args.int32s(3, "ids", positions);
  float* out = args.floats(5, "out", positions * dim);
  if (!args.ok() || !checkIds(args, ids, positions, vocab)) return nullptr;
  if (dim == 0) return undefinedValue(env);
  parallelFor(positions * dim, kMinParallel, dim, [&](size_t begin, size_t end) {
    gather(table, dim, ids, out, begin / dim, end / dim);
  });
  return undefinedValue(env);
}

// swapAxes(src, a, b, cols, dst, lengths)
napi_value SwapAxes(napi_env env, napi_callback_info info) {
  Args args(env, info, "swapAxes");
  const uint64_t a = args.size(1, "a");
  const uint64_t b = args.size(2, "b");
  const uint64_t cols = args.size(3, "cols");
  const float* src = args.floats(0, "src", a * b * cols);
  float* dst = args.floats(4, "dst", a * b * cols);
  const int32_t* lengths = args.optionalInt32s(5, "lengths", b);
  if (!args.ok()) return nullptr;
  if (cols == 0 || a == 0) return undefinedValue(env);
  parallelFor(a * b * cols, kMinParallel, cols, [&](size_t begin, size_t end) {
    swapRows(src, a, b, cols, dst, lengths, begin / cols, end / cols);
  });
  return undefinedValue(env);
}

// embeddingScatterAdd(dOut, ids, positions, dim, grad, vocab)
napi_value EmbeddingScatterAdd(napi_env env, napi_callback_info info) {
  Args args(env, info, "embeddingScatterAdd");
  const uint64_t positions = args.size(2, "positions");
  const uint64_t dim = args.size(3, "dim");
  const uint64_t vocab = args.size(5, "vocab");
  const float* dOut = args.floats(0, "dOut", positions * dim);
  const int32_t* ids = args.int32s(1, "ids", positions);
  float* grad = args.floats(4, "grad", vocab * dim);
  if (!args.ok() || !checkIds(args, ids, positions, vocab)) return nullptr;
  // Columns in blocks of 16 floats (a cache line), split only when there are millions of values.
  const size_t minColumns = positions * dim >= 2 * kMinParallel ? 16 : dim;
  parallelFor(dim, minColumns, 16, [&](size_t c0, size_t c1) {
    scatterAdd(dOut, ids, positions, dim, grad, c0, c1);
  });
  return undefinedValue(env);
}

}  // namespace vaekit
