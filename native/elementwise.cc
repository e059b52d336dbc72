// Elementwise arithmetic over n elements. Outputs may alias inputs. add/sub/mul are exact float
// operations (the same bits as the js backend's double arithmetic rounded to float); scale and
// axpy take a double factor, so they compute in double and round once, as the js backend does.
#include <algorithm>

#include "args.h"
#include "bindings.h"
#include "parallel.h"

namespace vaekit {
namespace {

template <typename Op>
napi_value binary(napi_env env, napi_callback_info info, const char* name, Op op) {
  Args args(env, info, name);
  const uint64_t n = args.size(3, "n");
  const float* a = args.floats(0, "a", n);
  const float* b = args.floats(1, "b", n);
  float* out = args.floats(2, "out", n);
  if (!args.ok()) return nullptr;
  for (size_t i = 0; i < n; i++) out[i] = op(a[i], b[i]);
  return undefinedValue(env);
}

}  // namespace

napi_value Add(napi_env env, napi_callback_info info) {
  return binary(env, info, "add", [](float a, float b) { return a + b; });
}

napi_value Sub(napi_env env, napi_callback_info info) {
  return binary(env, info, "sub", [](float a, float b) { return a - b; });
}

napi_value Mul(napi_env env, napi_callback_info info) {
  return binary(env, info, "mul", [](float a, float b) { return a * b; });
}

// out = s * a
napi_value Scale(napi_env env, napi_callback_info info) {
  Args args(env, info, "scale");
  const double s = args.number(1, "s");
  const uint64_t n = args.size(3, "n");
  const float* a = args.floats(0, "a", n);
  float* out = args.floats(2, "out", n);
  if (!args.ok()) return nullptr;
  for (size_t i = 0; i < n; i++) out[i] = static_cast<float>(a[i] * s);
  return undefinedValue(env);
}

// y += alpha * x
napi_value Axpy(napi_env env, napi_callback_info info) {
  Args args(env, info, "axpy");
  const double alpha = args.number(0, "alpha");
  const uint64_t n = args.size(3, "n");
  const float* x = args.floats(1, "x", n);
  float* y = args.floats(2, "y", n);
  if (!args.ok()) return nullptr;
  for (size_t i = 0; i < n; i++) y[i] = static_cast<float>(y[i] + alpha * x[i]);
  return undefinedValue(env);
}

// out[i] = sum over s < shards of weights[s] * stacked[s * n + i], in double, in the order of s:
// the data-parallel step's gradient, its shards' gradients weighted by their shares of the batch
// (src/train/shards.ts). Each element's sum is the same on any number of threads; a float times a
// float is exact in double, so the js backend's twin gives the same bits.
napi_value SumShards(napi_env env, napi_callback_info info) {
  Args args(env, info, "sumShards");
  const uint64_t shards = args.size(2, "shards");
  const uint64_t n = args.size(3, "n");
  const float* stacked = args.floats(0, "stacked", shards * n);
  const double* weights = args.doubles(1, "weights", shards);
  float* out = args.floats(4, "out", n);
  if (!args.ok()) return nullptr;
  // A block of elements at a time, shard by shard, so that the loop over the block's elements
  // vectorizes; each element still adds its shards in shard order (1.75 ms a step for two shards of
  // the seed preset element by element, BENCHMARKS.md).
  constexpr size_t kBlock = 64;
  parallelFor(n, 1 << 15, kBlock, [&](size_t begin, size_t end) {
    double acc[kBlock];
    for (size_t i0 = begin; i0 < end; i0 += kBlock) {
      const size_t width = std::min(kBlock, end - i0);
      for (size_t j = 0; j < width; j++) acc[j] = 0;
      for (size_t s = 0; s < shards; s++) {
        const float* from = stacked + s * n + i0;
        const double w = weights[s];
        for (size_t j = 0; j < width; j++) acc[j] += w * static_cast<double>(from[j]);
      }
      for (size_t j = 0; j < width; j++) out[i0 + j] = static_cast<float>(acc[j]);
    }
  });
  return undefinedValue(env);
}

// serialKernels(on): kernels called from this thread run on it alone (on) or over the pool (off).
// The data-parallel step's threads each run whole shards with their kernels serial, so that the
// pool's workers do not compete with them for the cores.
napi_value SerialKernels(napi_env env, napi_callback_info info) {
  Args args(env, info, "serialKernels");
  const bool on = args.flag(0, "on");
  if (!args.ok()) return nullptr;
  setSerialHere(on);
  return undefinedValue(env);
}

}  // namespace vaekit
