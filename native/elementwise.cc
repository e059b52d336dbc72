// Elementwise arithmetic over n elements. Outputs may alias inputs. add/sub/mul are exact float
// operations (the same bits as the js backend's double arithmetic rounded to float); scale and
// axpy take a double factor, so they compute in double and round once, as the js backend does.
#include "args.h"
#include "bindings.h"

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

}  // namespace vaekit
