// Batching: rows of a byte dataset (selected through an index, or consecutive) converted to
// floats divided by a divisor (255 for pixels: correctly rounded, so exactly float(b / 255)),
// split across the cores.
#include <algorithm>
#include <cstdint>

#include "args.h"
#include "bindings.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

// Rows ahead of the one converted whose lines are asked for (software prefetch). Rows picked by a
// shuffled index lie anywhere in a set of tens of MB, so after a step's other work has taken the
// caches each row's first lines wait on memory; asked for ahead, the waits overlap (BENCHMARKS.md).
constexpr size_t kPrefetchRows = 32;

inline void prefetchRow(const uint8_t* bytes, const uint32_t* rowIndex, size_t start, size_t cols, size_t r) {
  const size_t source = rowIndex != nullptr ? rowIndex[start + r] : start + r;
  const uint8_t* from = bytes + source * cols;
  for (size_t j = 0; j < cols; j += 64) __builtin_prefetch(from + j, 0, 3);
  __builtin_prefetch(from + cols - 1, 0, 3);
}

VAEKIT_SIMD_CLONES
void gatherRange(const uint8_t* bytes, const uint32_t* rowIndex, size_t start, size_t cols,
                 float divisor, float* out, size_t begin, size_t end) {
  const size_t first = begin / cols, last = end / cols;
  for (size_t r = first; r < std::min(last, first + kPrefetchRows); r++) prefetchRow(bytes, rowIndex, start, cols, r);
  for (size_t r = first; r < last; r++) {
    if (r + kPrefetchRows < last) prefetchRow(bytes, rowIndex, start, cols, r + kPrefetchRows);
    const size_t source = rowIndex != nullptr ? rowIndex[start + r] : start + r;
    const uint8_t* from = bytes + source * cols;
    float* to = out + r * cols;
    for (size_t j = 0; j < cols; j++) to[j] = static_cast<float>(from[j]) / divisor;
  }
}

}  // namespace

napi_value GatherBytes(napi_env env, napi_callback_info info) {
  Args args(env, info, "gatherBytes");
  const uint64_t start = args.size(2, "start");
  const uint64_t rows = args.size(3, "rows");
  const uint64_t cols = args.size(4, "cols");
  const double divisor = args.number(5, "divisor");
  size_t byteCount = 0;
  const uint8_t* bytes = args.bytes(0, "bytes", 0, &byteCount);
  const uint32_t* rowIndex = args.optionalUint32s(1, "rowIndex", start + rows);
  float* out = args.floats(6, "out", rows * cols);
  if (!args.ok()) return nullptr;
  // Every selected row must lie inside `bytes`.
  for (uint64_t r = 0; r < rows; r++) {
    const uint64_t source = rowIndex != nullptr ? rowIndex[start + r] : start + r;
    if ((source + 1) * cols > byteCount) {
      args.fail("row %llu is outside bytes, which hold %llu rows of %llu",
                static_cast<unsigned long long>(source),
                static_cast<unsigned long long>(cols == 0 ? 0 : byteCount / cols),
                static_cast<unsigned long long>(cols));
      return nullptr;
    }
  }
  if (rows == 0 || cols == 0) return undefinedValue(env);
  parallelFor(rows * cols, 1 << 15, cols, [&](size_t b, size_t e) {
    gatherRange(bytes, rowIndex, start, cols, static_cast<float>(divisor), out, b, e);
  });
  return undefinedValue(env);
}

}  // namespace vaekit
