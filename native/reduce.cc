// Reductions, accumulated in double: column sums (the bias gradient), row sums, and the total.
#include "reduce.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {

// Four rows at a time: each column's sum takes the four in order in a register, so it adds in the
// same order as one row at a time (the same bits) with a quarter of the loads and stores of acc.
VAEKIT_SIMD_CLONES
void sumRowsBlock(const float* x, size_t r0, size_t r1, size_t cols, size_t j0, size_t width, double* acc) {
  size_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const float* a = x + r * cols + j0;
    const float* b = a + cols;
    const float* c = b + cols;
    const float* d = c + cols;
    for (size_t j = 0; j < width; j++) {
      double s = acc[j];
      s += a[j];
      s += b[j];
      s += c[j];
      s += d[j];
      acc[j] = s;
    }
  }
  for (; r < r1; r++) {
    const float* row = x + r * cols + j0;
    for (size_t j = 0; j < width; j++) acc[j] += row[j];
  }
}

// out[j] = sum over r of x[r, j], a block of columns at a time so the accumulators stay on the
// stack. A conv layer's bias gradient sums many rows (positions) of few columns: there the rows
// are cut into parts (their number fixed by the size alone, never by the thread count), each part
// summed in double on some core, and the parts added in a fixed order, so the result is the same
// on any number of threads (and, being double sums rounded once to float, the same as one pass in
// all but near-tie cases).
constexpr size_t kBlock = 256;
constexpr size_t kMaxPartials = 16;

namespace {
double sum(const float* x, size_t n);
}  // namespace

// Integer work (exponent bits all ones), so it vectorizes.
VAEKIT_SIMD_CLONES
size_t countNonFiniteRange(const float* x, size_t begin, size_t end) {
  size_t bad = 0;
  for (size_t i = begin; i < end; i++) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad += (bits & 0x7f800000u) == 0x7f800000u;
  }
  return bad;
}

bool sumRowsColumnByColumn(size_t rows, size_t cols) {
  return cols != 1 && !(cols <= kBlock && rows * cols >= (size_t{1} << 16));
}

void sumRows(const float* x, size_t rows, size_t cols, float* out) {
  if (cols == 1) {  // one column (a one-channel image's bias): a plain sum, without the per-row loop
    out[0] = static_cast<float>(sum(x, rows));
    return;
  }
  if (!sumRowsColumnByColumn(rows, cols)) {  // many rows of few columns
    const size_t parts = std::min<size_t>(std::min(rows, kMaxPartials), (rows * cols) >> 15);
    static thread_local std::vector<double> partial;
    partial.assign(parts * cols, 0.0);
    double* acc = partial.data();
    parallelUnits(parts, parts, 1, [&](size_t begin, size_t end) {
      for (size_t p = begin; p < end; p++) {
        sumRowsBlock(x, rows * p / parts, rows * (p + 1) / parts, cols, 0, cols, acc + p * cols);
      }
    });
    for (size_t j = 0; j < cols; j++) {
      double s = 0;
      for (size_t p = 0; p < parts; p++) s += acc[p * cols + j];
      out[j] = static_cast<float>(s);
    }
    return;
  }
  double acc[kBlock];
  for (size_t j0 = 0; j0 < cols; j0 += kBlock) {
    const size_t width = std::min(kBlock, cols - j0);
    std::fill(acc, acc + width, 0.0);
    sumRowsBlock(x, 0, rows, cols, j0, width, acc);
    for (size_t j = 0; j < width; j++) out[j0 + j] = static_cast<float>(acc[j]);
  }
}

namespace {

// out[r] = sum over j of x[r, j].
void sumCols(const float* x, size_t rows, size_t cols, float* out) {
  for (size_t r = 0; r < rows; r++) {
    const float* row = x + r * cols;
    double s = 0;
    for (size_t j = 0; j < cols; j++) s += row[j];
    out[r] = static_cast<float>(s);
  }
}

double sum(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

// countNonFinite over the pool, for gradients whose check Adam does not take (the aggressive
// inner loop's); Adam's own check (adam.cc) reads them cut as its update is.
size_t countNonFinite(const float* x, size_t n) {
  std::atomic<size_t> total{0};
  parallelFor(n, 1 << 15, 16, [&](size_t begin, size_t end) {
    total.fetch_add(countNonFiniteRange(x, begin, end), std::memory_order_relaxed);
  });
  return total.load();
}

}  // namespace

napi_value CountNonFinite(napi_env env, napi_callback_info info) {
  Args args(env, info, "countNonFinite");
  const uint64_t n = args.size(1, "n");
  const float* x = args.floats(0, "x", n);
  if (!args.ok()) return nullptr;
  napi_value result = nullptr;
  napi_create_double(env, static_cast<double>(countNonFinite(x, n)), &result);
  return result;
}

napi_value SumRows(napi_env env, napi_callback_info info) {
  Args args(env, info, "sumRows");
  const uint64_t rows = args.size(1, "rows");
  const uint64_t cols = args.size(2, "cols");
  const float* x = args.floats(0, "x", rows * cols);
  float* out = args.floats(3, "out", cols);
  if (!args.ok()) return nullptr;
  sumRows(x, rows, cols, out);
  return undefinedValue(env);
}

napi_value SumCols(napi_env env, napi_callback_info info) {
  Args args(env, info, "sumCols");
  const uint64_t rows = args.size(1, "rows");
  const uint64_t cols = args.size(2, "cols");
  const float* x = args.floats(0, "x", rows * cols);
  float* out = args.floats(3, "out", rows);
  if (!args.ok()) return nullptr;
  sumCols(x, rows, cols, out);
  return undefinedValue(env);
}

napi_value Sum(napi_env env, napi_callback_info info) {
  Args args(env, info, "sum");
  const uint64_t n = args.size(1, "n");
  const float* x = args.floats(0, "x", n);
  if (!args.ok()) return nullptr;
  napi_value result = nullptr;
  napi_create_double(env, sum(x, n), &result);
  return result;
}

}  // namespace vaekit
