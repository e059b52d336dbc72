// The categorical likelihood over a vocabulary fused with its gradient (softmaxCrossEntropy in
// src/engine/backend.ts): per row of logits, the max, exp(l - max) written into the gradient's row
// (or a scratch row), their sum, the NLL, and the row scaled into scale (softmax - onehot). The text
// VAE runs it on every real step of a batch against a vocabulary of ten thousand words, where it
// was the largest piece of JavaScript in a training step.
//
// Rows are split across the cores, whole rows per thread. Within a row the max and the sum run over
// a fixed number of lanes combined in a fixed order (so that they vectorize without reassociating),
// which makes every row's bits independent of the thread count and of the instruction set.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

constexpr size_t kMinParallel = 1 << 15;
constexpr size_t kMaxLanes = 16;  // the max: 16 floats
constexpr size_t kSumLanes = 8;   // the sum: 8 doubles

// The largest of l[0..V) (NaN ignored, as the js backend's comparison ignores it).
VAEKIT_ALWAYS_INLINE float rowMax(const float* __restrict l, size_t V) {
  float m[kMaxLanes];
  for (size_t k = 0; k < kMaxLanes; k++) m[k] = -std::numeric_limits<float>::infinity();
  size_t j = 0;
  for (; j + kMaxLanes <= V; j += kMaxLanes) {
    for (size_t k = 0; k < kMaxLanes; k++) m[k] = l[j + k] > m[k] ? l[j + k] : m[k];
  }
  for (size_t k = 0; j + k < V; k++) m[k] = l[j + k] > m[k] ? l[j + k] : m[k];
  float max = m[0];
  for (size_t k = 1; k < kMaxLanes; k++) max = m[k] > max ? m[k] : max;
  return max;
}

// w[j] = exp(w[j] - max) in place; returns their sum in double (8 lanes, combined pairwise).
VAEKIT_ALWAYS_INLINE double expAndSum(float* __restrict w, size_t V, float max) {
  for (size_t j = 0; j < V; j++) w[j] = expNonPositive(w[j] - max);
  double acc[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  for (; j + kSumLanes <= V; j += kSumLanes) {
    for (size_t k = 0; k < kSumLanes; k++) acc[k] += w[j + k];
  }
  for (size_t k = 0; j + k < V; k++) acc[k] += w[j + k];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Rows [first, last): the NLL into rowNll and, with a gradient, the gradient rows. `scratch`
// holds one row when there is no gradient to hold the exps.
VAEKIT_SIMD_CLONES
void softmaxRows(const float* logits, const int32_t* targets, const uint8_t* mask, size_t first,
                 size_t last, size_t V, float* rowNll, float* grad, double gradScale,
                 const float* rowScale, float* scratch) {
  for (size_t r = first; r < last; r++) {
    const float* l = logits + r * V;
    float* w = grad != nullptr ? grad + r * V : scratch;
    if (mask != nullptr && mask[r] == 0) {
      rowNll[r] = 0;
      if (grad != nullptr) std::memset(w, 0, V * sizeof(float));
      continue;
    }
    const size_t y = static_cast<size_t>(targets[r]);
    const float target = l[y];
    const float max = rowMax(l, V);
    if (w != l) std::memcpy(w, l, V * sizeof(float));
    const double sum = expAndSum(w, V, max);
    rowNll[r] = static_cast<float>(static_cast<double>(max) + std::log(sum) - target);
    if (grad == nullptr) continue;
    const double scale = gradScale * (rowScale != nullptr ? static_cast<double>(rowScale[r]) : 1.0);
    const double k = scale / sum;
    for (size_t j = 0; j < V; j++) w[j] = static_cast<float>(w[j] * k);
    w[y] = static_cast<float>(scale * (std::exp(static_cast<double>(target) - max) / sum - 1));
  }
}

double softmaxCrossEntropy(const float* logits, const int32_t* targets, const uint8_t* mask,
                           size_t rows, size_t V, float* rowNll, float* grad, double gradScale,
                           const float* rowScale) {
  if (V == 0) {  // every row is masked (checked by the binding): nothing to score
    for (size_t r = 0; r < rows; r++) rowNll[r] = 0;
  } else {
    parallelFor(rows * V, kMinParallel, V, [&](size_t begin, size_t end) {
      thread_local std::vector<float> scratch;
      if (grad == nullptr && scratch.size() < V) scratch.resize(V);
      softmaxRows(logits, targets, mask, begin / V, end / V, V, rowNll, grad, gradScale, rowScale,
                  grad == nullptr ? scratch.data() : nullptr);
    });
  }
  double total = 0;
  for (size_t r = 0; r < rows; r++) total += rowNll[r];
  return total;
}

}  // namespace

// softmaxCrossEntropy(logits, targets, mask, rows, vocab, rowNll, grad, gradScale, rowScale) -> sum
napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info) {
  Args args(env, info, "softmaxCrossEntropy");
  const uint64_t rows = args.size(3, "rows");
  const uint64_t V = args.size(4, "vocab");
  const double gradScale = args.number(7, "gradScale");
  const float* logits = args.floats(0, "logits", rows * V);
  const int32_t* targets = args.int32s(1, "targets", rows);
  const uint8_t* mask = args.optionalBytes(2, "mask", rows);
  float* rowNll = args.floats(5, "rowNll", rows);
  float* grad = args.optionalFloats(6, "grad", rows * V);
  const float* rowScale = args.optionalFloats(8, "rowScale", rows);
  if (!args.ok()) return nullptr;
  for (uint64_t r = 0; r < rows; r++) {
    if (mask != nullptr && mask[r] == 0) continue;
    const int64_t y = targets[r];
    if (y < 0 || static_cast<uint64_t>(y) >= V) {
      args.fail("target %lld of row %llu is outside the vocabulary [0, %llu)", static_cast<long long>(y),
                static_cast<unsigned long long>(r), static_cast<unsigned long long>(V));
      return nullptr;
    }
  }
  const double total = softmaxCrossEntropy(logits, targets, mask, rows, V, rowNll, grad, gradScale, rowScale);
  napi_value result = nullptr;
  napi_create_double(env, total, &result);
  return result;
}

}  // namespace vaekit
