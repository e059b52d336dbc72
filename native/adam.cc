// One Adam step with bias correction (step counts from 1), in double like the js backend:
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps).
#include <cmath>

#include "args.h"
#include "bindings.h"

namespace vaekit {
namespace {

void adam(float* params, const float* grads, float* m, float* v, size_t n, double lr, double beta1,
          double beta2, double eps, double step) {
  // The bias corrections as factors: one division per parameter instead of three (the result
  // differs from dividing by 1 - b^step only far below float precision).
  const double stepSize = lr / (1 - std::pow(beta1, step));
  const double inverseC2 = 1 / (1 - std::pow(beta2, step));
  for (size_t i = 0; i < n; i++) {
    const double g = grads[i];
    const double mi = beta1 * m[i] + (1 - beta1) * g;
    const double vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    params[i] = static_cast<float>(params[i] - stepSize * mi / (std::sqrt(vi * inverseC2) + eps));
  }
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
  if (!args.ok()) return nullptr;
  adam(params, grads, m, v, n, lr, beta1, beta2, eps, step);
  return undefinedValue(env);
}

}  // namespace vaekit
