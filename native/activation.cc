// Dense-layer activations: the fused bias + activation forward pass and its backward pass (alone, or
// with the bias gradient and bf16 copy in the same pass), which reads the derivative off the
// activation's output. Arithmetic is in double, like the js backend.
#include "activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "args.h"
#include "bf16.h"
#include "bindings.h"
#include "dnnl_gemm.h"
#include "fastmath.h"
#include "parallel.h"
#include "reduce.h"
#include "simd.h"

namespace vaekit {
namespace {

// y = sigmoid(x + bias) over rows [begin, end) / cols, with one exp of -|v| per element.
VAEKIT_SIMD_CLONES
void sigmoidRows(const float* x, const float* bias, float* y, size_t begin, size_t end, size_t cols) {
  for (size_t o = begin; o < end; o += cols) {
    for (size_t j = 0; j < cols; j++) {
      const float v = x[o + j] + bias[j];
      const float e = expNonPositive(-std::fabs(v));
      y[o + j] = (v >= 0 ? 1.0f : e) / (1.0f + e);
    }
  }
}

// Rows are split across the cores when the matrix is large enough to pay for the wake-up.
constexpr size_t kMinParallel = 1 << 14;

template <typename T, typename F>
void biasThen(const float* x, const float* bias, float* y, size_t begin, size_t end, size_t cols, F act) {
  for (size_t o = begin; o < end; o += cols) {
    for (size_t j = 0; j < cols; j++) {
      y[o + j] = static_cast<float>(act(static_cast<T>(x[o + j]) + static_cast<T>(bias[j])));
    }
  }
}

}  // namespace

// y may alias x: each element is read before it is written. Linear and relu work in float, which
// gives the same bits as double here (a float sum rounded once either way).
void biasActivationRows(const float* x, const float* bias, float* y, size_t rowBegin, size_t rowEnd,
                        size_t cols, int act, double slope) {
  const size_t begin = rowBegin * cols, end = rowEnd * cols;
  switch (act) {
    case kLinear: return biasThen<float>(x, bias, y, begin, end, cols, [](float v) { return v; });
    case kRelu: return biasThen<float>(x, bias, y, begin, end, cols, [](float v) { return v > 0 ? v : 0.0f; });
    case kLeakyRelu:
      return biasThen<double>(x, bias, y, begin, end, cols, [slope](double v) { return v > 0 ? v : slope * v; });
    case kTanh: return biasThen<double>(x, bias, y, begin, end, cols, [](double v) { return std::tanh(v); });
    case kSigmoid: return sigmoidRows(x, bias, y, begin, end, cols);  // float math that vectorizes (fastmath.h)
  }
}

void biasActivation(const float* x, const float* bias, float* y, size_t rows, size_t cols, int act, double slope) {
  if (cols == 0) return;
  parallelFor(rows * cols, kMinParallel, cols, [&](size_t begin, size_t end) {
    biasActivationRows(x, bias, y, begin / cols, end / cols, cols, act, slope);
  });
}

namespace {

// dx[begin..end) from dy and y; dx may alias dy. Compiled for AVX-512/AVX2 as well (the conv
// layers' gradients are millions of elements a step).
VAEKIT_SIMD_CLONES
void activationBackwardRange(const float* dy, const float* y, float* dx, size_t begin, size_t end,
                             int act, double slope) {
  switch (act) {
    case kLinear:
      if (dx != dy) std::memmove(dx + begin, dy + begin, (end - begin) * sizeof(float));
      return;
    case kRelu:
      for (size_t i = begin; i < end; i++) {
        const float g = dy[i];  // loaded unconditionally, so the select vectorizes
        dx[i] = y[i] > 0 ? g : 0.0f;
      }
      return;
    case kLeakyRelu:
      for (size_t i = begin; i < end; i++) {
        const double factor = y[i] > 0 ? 1.0 : slope;  // times 1 is exact: dy passes unchanged
        dx[i] = static_cast<float>(dy[i] * factor);
      }
      return;
    case kTanh:
      for (size_t i = begin; i < end; i++) {
        const double yi = y[i];
        dx[i] = static_cast<float>(dy[i] * (1 - yi * yi));
      }
      return;
    case kSigmoid:
      for (size_t i = begin; i < end; i++) {
        const double yi = y[i];
        dx[i] = static_cast<float>(dy[i] * yi * (1 - yi));
      }
      return;
  }
}

// Elementwise, so any split gives the same bits.
void activationBackward(const float* dy, const float* y, float* dx, size_t n, int act, double slope) {
  parallelFor(n, kMinParallel, 16, [&](size_t begin, size_t end) {
    activationBackwardRange(dy, y, dx, begin, end, act, slope);
  });
}

// Elements a thread takes at least in activationBiasBackward: a dense layer's 128 x 512 took 16 us
// on one thread and 18 us on two (the wake-up), on the Intel VM of BENCHMARKS.md.
constexpr size_t kMinParallelBiasBackward = 1 << 16;

// activationBackward, then biasGrad = sumRows(dx) in the same pass where sumRows sums column by
// column: the columns are cut over the pool, and each thread takes its columns of a row (dx still
// in cache) into its columns' double sums, row after row, as sumRows would. Elsewhere (one column,
// or a conv layer's many positions of few channels) the two run one after the other.
// With dxHalf, dx rounded to bf16 is written there too (mixed precision's copy of the gradient that
// both products read), in the same pass.
void activationBiasBackward(const float* dy, const float* y, float* dx, size_t rows, size_t cols,
                            int act, double slope, float* biasGrad, uint16_t* dxHalf) {
  if (!sumRowsColumnByColumn(rows, cols)) {
    activationBackward(dy, y, dx, rows * cols, act, slope);
    sumRows(dx, rows, cols, biasGrad);
    if (dxHalf != nullptr) toBf16OverPool(dx, dxHalf, rows * cols);
    return;
  }
  if (rows == 0) {
    std::fill(biasGrad, biasGrad + cols, 0.0f);
    return;
  }
  parallelFor(cols, (kMinParallelBiasBackward + rows - 1) / rows, 16, [&](size_t j0, size_t j1) {
    static thread_local std::vector<double> acc;
    acc.assign(j1 - j0, 0.0);
    for (size_t r = 0; r < rows; r += 4) {
      const size_t r1 = std::min(rows, r + 4);
      for (size_t i = r; i < r1; i++) {
        activationBackwardRange(dy, y, dx, i * cols + j0, i * cols + j1, act, slope);
        if (dxHalf != nullptr) toBf16(dx + i * cols + j0, dxHalf + i * cols + j0, j1 - j0);
      }
      sumRowsBlock(dx, r, r1, cols, j0, j1 - j0, acc.data());
    }
    for (size_t j = j0; j < j1; j++) biasGrad[j] = static_cast<float>(acc[j - j0]);
  });
}

}  // namespace

int activationCode(Args& args, size_t index) {
  const uint64_t code = args.size(index, "activation");
  if (args.ok() && code > kSigmoid) args.fail("unknown activation code %llu", static_cast<unsigned long long>(code));
  return static_cast<int>(code);
}

napi_value BiasActivation(napi_env env, napi_callback_info info) {
  Args args(env, info, "biasActivation");
  const uint64_t rows = args.size(3, "rows");
  const uint64_t cols = args.size(4, "cols");
  const int act = activationCode(args, 5);
  const double slope = args.number(6, "slope");
  const float* x = args.floats(0, "x", rows * cols);
  const float* bias = args.floats(1, "bias", rows > 0 ? cols : 0);
  float* y = args.floats(2, "y", rows * cols);
  if (!args.ok()) return nullptr;
  biasActivation(x, bias, y, rows, cols, act, slope);
  return undefinedValue(env);
}

napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "activationBackward");
  const uint64_t n = args.size(3, "n");
  const int act = activationCode(args, 4);
  const double slope = args.number(5, "slope");
  const float* dy = args.floats(0, "dy", n);
  const float* y = args.floats(1, "y", act == kLinear ? 0 : n);
  float* dx = args.floats(2, "dx", n);
  if (!args.ok()) return nullptr;
  activationBackward(dy, y, dx, n, act, slope);
  return undefinedValue(env);
}

napi_value ActivationBiasBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "activationBiasBackward");
  const uint64_t rows = args.size(3, "rows");
  const uint64_t cols = args.size(4, "cols");
  const int act = activationCode(args, 5);
  const double slope = args.number(6, "slope");
  const float* dy = args.floats(0, "dy", rows * cols);
  const float* y = args.floats(1, "y", act == kLinear ? 0 : rows * cols);
  float* dx = args.floats(2, "dx", rows * cols);
  float* biasGrad = args.floats(7, "biasGrad", cols);
  uint16_t* dxHalf = args.optionalUint16s(8, "dxHalf", rows * cols);
  if (!args.ok()) return nullptr;
  activationBiasBackward(dy, y, dx, rows, cols, act, slope, biasGrad, dxHalf);
  return undefinedValue(env);
}

}  // namespace vaekit
