// gemm and gemmPortable: argument checks around the kernels in gemm.cc.
#include "args.h"
#include "bindings.h"
#include "gemm.h"

namespace vaekit {
namespace {

using GemmKernel = void (*)(bool, bool, int, int, int, float, const float*, const float*, float,
                            float*);

napi_value callGemm(napi_env env, napi_callback_info info, const char* name, GemmKernel kernel) {
  Args args(env, info, name);
  const bool transA = args.flag(0, "transA");
  const bool transB = args.flag(1, "transB");
  const uint64_t m = args.size(2, "m");
  const uint64_t n = args.size(3, "n");
  const uint64_t k = args.size(4, "k");
  const double alpha = args.number(5, "alpha");
  const float* a = args.floats(6, "a", m * k);
  const float* b = args.floats(7, "b", k * n);
  const double beta = args.number(8, "beta");
  float* c = args.floats(9, "c", m * n);
  if (!args.ok()) return nullptr;
  kernel(transA, transB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
         static_cast<float>(alpha), a, b, static_cast<float>(beta), c);
  return undefinedValue(env);
}

}  // namespace

napi_value Gemm(napi_env env, napi_callback_info info) {
  return callGemm(env, info, "gemm", gemm);
}

napi_value GemmPortable(napi_env env, napi_callback_info info) {
  return callGemm(env, info, "gemmPortable", gemmPortable);
}

}  // namespace vaekit
