// gemm, gemmPortable and the oneDNN products (gemmBf16, gemmDnnlF32): argument checks around the
// kernels in gemm.cc and dnnl.cc.
#include <type_traits>

#include "activation.h"
#include "args.h"
#include "bindings.h"
#include "dnnl_gemm.h"
#include "gemm.h"

namespace vaekit {
namespace {

using GemmKernel = void (*)(bool, bool, int, int, int, float, const float*, const float*, float,
                            float*);

// gemm's arguments, with operands of type T (float, or uint16_t holding bf16 bits).
template <typename T>
struct GemmCall {
  bool transA, transB;
  int m, n, k;
  float alpha, beta;
  const T* a;
  const T* b;
  float* c;
};

const float* operand(Args& args, size_t index, const char* name, uint64_t need, const float*) {
  return args.floats(index, name, need);
}
const uint16_t* operand(Args& args, size_t index, const char* name, uint64_t need, const uint16_t*) {
  return args.uint16s(index, name, need);
}

// Reads gemm's arguments; false (with an error pending) when one is bad.
template <typename T>
bool readGemm(Args& args, GemmCall<T>* call) {
  const bool transA = args.flag(0, "transA");
  const bool transB = args.flag(1, "transB");
  const uint64_t m = args.size(2, "m");
  const uint64_t n = args.size(3, "n");
  const uint64_t k = args.size(4, "k");
  const double alpha = args.number(5, "alpha");
  const T* a = operand(args, 6, "a", m * k, static_cast<const T*>(nullptr));
  const T* b = operand(args, 7, "b", k * n, static_cast<const T*>(nullptr));
  const double beta = args.number(8, "beta");
  float* c = args.floats(9, "c", m * n);
  if (!args.ok()) return false;
  *call = GemmCall<T>{transA, transB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                      static_cast<float>(alpha), static_cast<float>(beta), a, b, c};
  return true;
}

napi_value callGemm(napi_env env, napi_callback_info info, const char* name, GemmKernel kernel) {
  Args args(env, info, name);
  GemmCall<float> g{};
  if (!readGemm(args, &g)) return nullptr;
  kernel(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.b, g.beta, g.c);
  return undefinedValue(env);
}

// A oneDNN product, refused with its reason where oneDNN is unavailable.
template <typename T>
napi_value callDnnl(napi_env env, napi_callback_info info, const char* name,
                    bool (*kernel)(bool, bool, int, int, int, float, const T*, const T*, float, float*)) {
  Args args(env, info, name);
  GemmCall<T> g{};
  if (!readGemm(args, &g)) return nullptr;
  if (const char* reason = dnnlUnavailableReason()) {
    args.fail("%s", reason);
    return nullptr;
  }
  if (!kernel(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.b, g.beta, g.c)) {
    args.fail("oneDNN could not run a %dx%dx%d product", g.m, g.n, g.k);
    return nullptr;
  }
  return undefinedValue(env);
}

}  // namespace

// The fp32 product vaekit uses: oneDNN's matmul where it is available (1.1 to 2.3x OpenBLAS on
// the seed's and the conv preset's shapes, BENCHMARKS.md), else OpenBLAS or the portable kernel.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args args(env, info, "gemm");
  GemmCall<float> g{};
  if (!readGemm(args, &g)) return nullptr;
  if (dnnlUnavailableReason() != nullptr) {
    gemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.b, g.beta, g.c);
  } else if (!gemmDnnlF32(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.b, g.beta, g.c)) {
    args.fail("oneDNN could not run a %dx%dx%d product", g.m, g.n, g.k);
    return nullptr;
  }
  return undefinedValue(env);
}

// gemmBiasActivation(m, n, k, a, b, bias, act, slope, c): c = act(a b + bias), a dense layer's
// forward; oneDNN applies the bias and activation to each part of c as it finishes it. Without
// oneDNN, fp32 runs the product (OpenBLAS or the portable kernel) and then them, the same bits;
// gemmBf16BiasActivation (a and b in bf16) is refused with the reason, as gemmBf16 is.
namespace {

template <typename T>
napi_value callDense(napi_env env, napi_callback_info info, const char* name,
                     bool (*kernel)(int, int, int, const T*, const T*, const float*, int, double, float*)) {
  Args args(env, info, name);
  const uint64_t m = args.size(0, "m");
  const uint64_t n = args.size(1, "n");
  const uint64_t k = args.size(2, "k");
  const int act = activationCode(args, 6);
  const double slope = args.number(7, "slope");
  const T* a = operand(args, 3, "a", m * k, static_cast<const T*>(nullptr));
  const T* b = operand(args, 4, "b", k * n, static_cast<const T*>(nullptr));
  const float* bias = args.floats(5, "bias", m > 0 ? n : 0);
  float* c = args.floats(8, "c", m * n);
  if (!args.ok()) return nullptr;
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  if (const char* reason = dnnlUnavailableReason()) {
    if constexpr (std::is_same_v<T, float>) {
      gemm(false, false, mi, ni, ki, 1.0f, a, b, 0.0f, c);
      biasActivation(c, bias, c, m, n, act, slope);
      return undefinedValue(env);
    }
    args.fail("%s", reason);
    return nullptr;
  }
  if (!kernel(mi, ni, ki, a, b, bias, act, slope, c)) {
    args.fail("oneDNN could not run a %dx%dx%d product", mi, ni, ki);
    return nullptr;
  }
  return undefinedValue(env);
}

}  // namespace

napi_value GemmBiasActivation(napi_env env, napi_callback_info info) {
  return callDense<float>(env, info, "gemmBiasActivation", gemmDnnlF32BiasActivation);
}

napi_value GemmBf16BiasActivation(napi_env env, napi_callback_info info) {
  return callDense<uint16_t>(env, info, "gemmBf16BiasActivation", gemmBf16BiasActivation);
}

napi_value GemmBlas(napi_env env, napi_callback_info info) {
  return callGemm(env, info, "gemmBlas", gemm);
}

napi_value GemmPortable(napi_env env, napi_callback_info info) {
  return callGemm(env, info, "gemmPortable", gemmPortable);
}

napi_value GemmDnnlF32(napi_env env, napi_callback_info info) {
  return callDnnl<float>(env, info, "gemmDnnlF32", gemmDnnlF32);
}

napi_value GemmBf16(napi_env env, napi_callback_info info) {
  return callDnnl<uint16_t>(env, info, "gemmBf16", gemmBf16);
}

// toBf16(x, out, n): out[i] = x[i] rounded to bf16 (round to nearest even), over the cores.
napi_value ToBf16(napi_env env, napi_callback_info info) {
  Args args(env, info, "toBf16");
  const uint64_t n = args.size(2, "n");
  const float* x = args.floats(0, "x", n);
  uint16_t* out = args.uint16s(1, "out", n);
  if (!args.ok()) return nullptr;
  toBf16OverPool(x, out, n);
  return undefinedValue(env);
}

}  // namespace vaekit
