// One Adam step with bias correction (step counts from 1), over both cores:
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps).
#include <atomic>
#include <cmath>

#include "args.h"
#include "bf16.h"
#include "bindings.h"
#include "parallel.h"
#include "reduce.h"
#include "simd.h"

namespace vaekit {
namespace {

// Float arithmetic, so the loop vectorizes (sqrt and division included, with -fno-math-errno);
// compiled for AVX-512 and AVX2 as well as the baseline, chosen at load time by the CPU. With
// kHalf it also writes the new weights' bf16 copy (mixed precision's operand) in the same pass.
template <bool kHalf>
VAEKIT_SIMD_CLONES
void adamRange(float* params, const float* grads, float* m, float* v, uint16_t* half, size_t begin,
               size_t end, float stepSize, float inverseC2, float beta1, float oneMinusB1, float beta2,
               float oneMinusB2, float eps) {
  for (size_t i = begin; i < end; i++) {
    const float g = grads[i];
    const float mi = beta1 * m[i] + oneMinusB1 * g;
    const float vi = beta2 * v[i] + oneMinusB2 * g * g;
    m[i] = mi;
    v[i] = vi;
    const float p = params[i] - stepSize * mi / (std::sqrt(vi * inverseC2) + eps);
    params[i] = p;
    if (kHalf) half[i] = bf16Of(p);
  }
}

// Runs range(begin, end) over [0, n) on the pool, cut as Adam's update is. With `layout` (each
// tensor's size and rows, in order: 2 * tensors numbers), thread t of T takes the rows of each tensor
// in the units [units * t / T, units * (t + 1) / T) of weightRowUnits (parallel.h): the rows of a
// layer's weights its products read and its weight gradient wrote on that thread, so that no line of
// them is taken from the other core's cache (BENCHMARKS.md, Scaling). Without it, contiguous chunks.
// Mixed precision's products read the bf16 copy in row bands of the batch (dnnl.cc), every thread
// all of it, so there is nothing to match: with a bf16 copy to write, the layout is not used.
template <typename F>
void overOwnedRows(size_t n, const int32_t* layout, size_t tensors, bool contiguous, F&& range) {
  if (layout == nullptr || contiguous || poolThreads() == 1) {
    parallelFor(n, 1 << 15, 16, range);
    return;
  }
  const size_t threads = static_cast<size_t>(poolThreads());
  parallelFor(threads, 1, 1, [&](size_t first, size_t last) {
    for (size_t t = first; t < last; t++) {
      size_t offset = 0;
      for (size_t i = 0; i < tensors; i++) {
        const size_t size = static_cast<size_t>(layout[2 * i]), rows = static_cast<size_t>(layout[2 * i + 1]);
        const size_t width = size / rows, units = weightRowUnits(rows);
        const size_t r0 = unitStart(rows, units, 16, units * t / threads), r1 = unitStart(rows, units, 16, units * (t + 1) / threads);
        if (r0 < r1) range(offset + r0 * width, offset + r1 * width);
        offset += size;
      }
    }
  });
}

// Each parameter's update is the same arithmetic however the work is cut, so the bits do not
// depend on it. With `check`, the gradients are first counted for NaN and infinities (the training
// step's health check), cut the same way, so that each core then updates the gradients it has just
// read; when any is not finite nothing is changed. Returns that count (0 without `check`).
size_t adam(float* params, const float* grads, float* m, float* v, uint16_t* half, size_t n, double lr,
            double beta1, double beta2, double eps, double step, const int32_t* layout, size_t tensors, bool check) {
  const bool contiguous = half != nullptr;
  if (check) {
    std::atomic<size_t> bad{0};
    overOwnedRows(n, layout, tensors, contiguous, [&](size_t b, size_t e) {
      bad.fetch_add(countNonFiniteRange(grads, b, e), std::memory_order_relaxed);
    });
    if (bad.load() > 0) return bad.load();
  }
  // The bias corrections as factors: one division per parameter instead of three.
  const float stepSize = static_cast<float>(lr / (1 - std::pow(beta1, step)));
  const float inverseC2 = static_cast<float>(1 / (1 - std::pow(beta2, step)));
  // 1 - beta is rounded from double: 1 - 0.999f in float would be 1.3e-5 off.
  const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
  const float c1 = static_cast<float>(1 - beta1), c2 = static_cast<float>(1 - beta2), e32 = static_cast<float>(eps);
  overOwnedRows(n, layout, tensors, contiguous, [&](size_t b, size_t e) {
    if (half != nullptr) {
      adamRange<true>(params, grads, m, v, half, b, e, stepSize, inverseC2, b1, c1, b2, c2, e32);
    } else {
      adamRange<false>(params, grads, m, v, nullptr, b, e, stepSize, inverseC2, b1, c1, b2, c2, e32);
    }
  });
  return 0;
}

}  // namespace

napi_value Adam(napi_env env, napi_callback_info info) {
  Args args(env, info, "adam");
  const uint64_t n = args.size(4, "n");
  const double lr = args.number(5, "lr");
  const double beta1 = args.number(6, "beta1");
  const double beta2 = args.number(7, "beta2");
  const double eps = args.number(8, "eps");
  const double step = args.number(9, "step");
  float* params = args.floats(0, "params", n);
  const float* grads = args.floats(1, "grads", n);
  float* m = args.floats(2, "m", n);
  float* v = args.floats(3, "v", n);
  uint16_t* half = args.optionalUint16s(10, "half", n);
  size_t layoutLength = 0;
  const int32_t* layout = args.optionalInt32s(11, "layout", 0, &layoutLength);
  const bool check = args.flag(12, "onlyIfFinite");
  if (!args.ok()) return nullptr;
  const size_t tensors = layoutLength / 2;
  if (layout != nullptr) {
    uint64_t total = 0;
    bool whole = layoutLength % 2 == 0;
    for (size_t i = 0; i < tensors && whole; i++) {
      whole = layout[2 * i] >= 0 && layout[2 * i + 1] >= 1 && layout[2 * i] % layout[2 * i + 1] == 0;
      total += static_cast<uint64_t>(layout[2 * i]);
    }
    if (!whole || total != n) {
      args.fail("layout must hold each tensor's size and rows (the size a multiple of the rows), the sizes summing to n");
      return nullptr;
    }
  }
  const size_t bad = adam(params, grads, m, v, half, n, lr, beta1, beta2, eps, step, layout, tensors, check);
  napi_value result = nullptr;
  napi_create_double(env, static_cast<double>(bad), &result);
  return result;
}

}  // namespace vaekit
