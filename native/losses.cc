// Reconstruction losses, each fused with its gradient: one pass computes the per-row loss (in
// double) and, when a gradient array is given, d(loss)/d(input) scaled by gradScale.
#include <algorithm>
#include <cmath>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

constexpr double kPi = 3.141592653589793;  // the double nearest pi, as Math.PI

// Rows are split across the cores when the batch is large enough to pay for the wake-up.
constexpr size_t kMinParallel = 1 << 14;

// Bernoulli NLL from logits: softplus(l) - l t, in the form that never overflows, for one row.
// Float math that vectorizes (fastmath.h); the per-pixel terms go to `terms` and are summed in
// double by the caller (a reduction in the loop would keep it from vectorizing).
template <bool kGrad>
inline void bceRow(const float* __restrict logits, const float* __restrict target, size_t cols,
                   float* __restrict terms, float* __restrict grad, float scale) {
  for (size_t j = 0; j < cols; j++) {
    const float l = logits[j];
    const float t = target[j];
    // One exp serves both: e = exp(-|l|) gives log1p(e) and sigmoid(l) = (l >= 0 ? 1 : e) / (1 + e).
    const float e = expNonPositive(-std::fabs(l));
    terms[j] = (l > 0 ? l : 0.0f) - l * t + log1pUnit(e);
    if (kGrad) grad[j] = scale * ((l >= 0 ? 1.0f : e) / (1.0f + e) - t);
  }
}

VAEKIT_SIMD_CLONES
void bceRows(const float* logits, const float* target, size_t begin, size_t end, size_t cols,
             float* rowLoss, float* grad, float scale) {
  thread_local std::vector<float> terms;
  if (terms.size() < cols) terms.resize(cols);
  for (size_t o = begin; o < end; o += cols) {
    if (grad != nullptr) {
      bceRow<true>(logits + o, target + o, cols, terms.data(), grad + o, scale);
    } else {
      bceRow<false>(logits + o, target + o, cols, terms.data(), nullptr, scale);
    }
    double s = 0;
    for (size_t j = 0; j < cols; j++) s += terms[j];
    rowLoss[o / cols] = static_cast<float>(s);
  }
}

void bceWithLogits(const float* logits, const float* target, size_t rows, size_t cols,
                   float* rowLoss, float* grad, double gradScale) {
  parallelFor(rows * cols, kMinParallel, cols, [&](size_t begin, size_t end) {
    bceRows(logits, target, begin, end, cols, rowLoss, grad, static_cast<float>(gradScale));
  });
}

void squaredError(const float* pred, const float* target, size_t rows, size_t cols,
                  float* rowLoss, float* grad, double gradScale) {
  for (size_t r = 0; r < rows; r++) {
    const size_t o = r * cols;
    double s = 0;
    for (size_t j = 0; j < cols; j++) {
      const double d = static_cast<double>(pred[o + j]) - target[o + j];
      s += d * d;
      if (grad != nullptr) grad[o + j] = static_cast<float>(gradScale * 2 * d);
    }
    rowLoss[r] = static_cast<float>(s);
  }
}

// Gaussian NLL; logvar is one shared value when `shared`, else one per element.
void gaussianNll(const float* mean, const float* logvar, bool shared, const float* target,
                 size_t rows, size_t cols, float* rowLoss, float* gradMean, float* gradLogvar,
                 double gradScale) {
  const double log2pi = std::log(2 * kPi);
  for (size_t r = 0; r < rows; r++) {
    const size_t o = r * cols;
    double s = 0;
    for (size_t j = 0; j < cols; j++) {
      const double lv = shared ? logvar[0] : logvar[o + j];
      const double d = static_cast<double>(mean[o + j]) - target[o + j];
      const double precision = std::exp(-lv);
      s += 0.5 * (log2pi + lv + d * d * precision);
      if (gradMean != nullptr) gradMean[o + j] = static_cast<float>(gradScale * d * precision);
      if (gradLogvar != nullptr && !shared) {
        gradLogvar[o + j] = static_cast<float>(gradScale * 0.5 * (1 - d * d * precision));
      }
    }
    rowLoss[r] = static_cast<float>(s);
  }
}

// The argument layout bceWithLogits and squaredError share:
// (input, target, rows, cols, rowLoss, grad | null, gradScale).
template <typename Kernel>
napi_value rowLossWithGradient(napi_env env, napi_callback_info info, const char* name,
                               const char* inputName, Kernel kernel) {
  Args args(env, info, name);
  const uint64_t rows = args.size(2, "rows");
  const uint64_t cols = args.size(3, "cols");
  const double gradScale = args.number(6, "gradScale");
  const float* input = args.floats(0, inputName, rows * cols);
  const float* target = args.floats(1, "target", rows * cols);
  float* rowLoss = args.floats(4, "rowLoss", rows);
  float* grad = args.optionalFloats(5, "grad", rows * cols);
  if (!args.ok()) return nullptr;
  kernel(input, target, rows, cols, rowLoss, grad, gradScale);
  return undefinedValue(env);
}

}  // namespace

napi_value BceWithLogits(napi_env env, napi_callback_info info) {
  return rowLossWithGradient(env, info, "bceWithLogits", "logits", bceWithLogits);
}

napi_value SquaredError(napi_env env, napi_callback_info info) {
  return rowLossWithGradient(env, info, "squaredError", "pred", squaredError);
}

napi_value GaussianNll(napi_env env, napi_callback_info info) {
  Args args(env, info, "gaussianNll");
  const uint64_t rows = args.size(3, "rows");
  const uint64_t cols = args.size(4, "cols");
  const double gradScale = args.number(8, "gradScale");
  const uint64_t count = rows * cols;
  const bool shared = args.length(1, "logvar") == 1;
  const float* mean = args.floats(0, "mean", count);
  const float* logvar = args.floats(1, "logvar", shared ? 1 : count);
  const float* target = args.floats(2, "target", count);
  float* rowLoss = args.floats(5, "rowLoss", rows);
  float* gradMean = args.optionalFloats(6, "gradMean", count);
  // With a shared variance there is no per-element log-variance gradient to write.
  float* gradLogvar = shared ? nullptr : args.optionalFloats(7, "gradLogvar", count);
  if (!args.ok()) return nullptr;
  gaussianNll(mean, logvar, shared, target, rows, cols, rowLoss, gradMean, gradLogvar, gradScale);
  return undefinedValue(env);
}

}  // namespace vaekit
