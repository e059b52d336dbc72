// The vaekit addon: module setup, info(), and the table of kernels. Kernels are plain Node-API
// callbacks (see args.h for why); node-addon-api builds the module object and info().
#include <napi.h>

#include "bindings.h"
#include "dnnl_gemm.h"
#include "gemm.h"

namespace vaekit {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("backend", "native");
  // The fp32 products' kernel: oneDNN where it is usable, else OpenBLAS or the portable one.
  result.Set("blas", dnnlUnavailableReason() == nullptr ? "onednn" : blasName());
  result.Set("fallbackBlas", blasName());
  result.Set("threads", blasThreads());
  // oneDNN: whether it is in this build and usable, its version, the instruction set it dispatches
  // to, whether bf16 runs natively, and the implementations it picked for the products made so far.
  Napi::Object dnnl = Napi::Object::New(env);
  dnnl.Set("compiled", dnnlCompiled());
  const char* reason = dnnlUnavailableReason();
  dnnl.Set("available", reason == nullptr);
  if (reason != nullptr) dnnl.Set("reason", reason);
  if (dnnlCompiled()) {
    dnnl.Set("version", dnnlVersion());
    dnnl.Set("isa", dnnlIsa());
    dnnl.Set("nativeBf16", dnnlNativeBf16());
    dnnl.Set("bf16Kernel", dnnlKernel(true));
    dnnl.Set("f32Kernel", dnnlKernel(false));
  }
  result.Set("dnnl", dnnl);
  return result;
}

struct Kernel {
  const char* name;
  napi_callback callback;
};

constexpr Kernel kKernels[] = {
    {"gemm", Gemm},
    {"gemmPortable", GemmPortable},
    {"gemmBlas", GemmBlas},
    {"gemmBf16", GemmBf16},
    {"gemmDnnlF32", GemmDnnlF32},
    {"toBf16", ToBf16},
    {"biasActivation", BiasActivation},
    {"activationBackward", ActivationBackward},
    {"activationBiasBackward", ActivationBiasBackward},
    {"gemmBiasActivation", GemmBiasActivation},
    {"gemmBf16BiasActivation", GemmBf16BiasActivation},
    {"sumRows", SumRows},
    {"sumCols", SumCols},
    {"sum", Sum},
    {"countNonFinite", CountNonFinite},
    {"add", Add},
    {"sub", Sub},
    {"mul", Mul},
    {"scale", Scale},
    {"axpy", Axpy},
    {"sumShards", SumShards},
    {"serialKernels", SerialKernels},
    {"bceWithLogits", BceWithLogits},
    {"squaredError", SquaredError},
    {"gaussianNll", GaussianNll},
    {"reparameterize", Reparameterize},
    {"reparameterizeBackward", ReparameterizeBackward},
    {"klDiagonalGaussian", KlDiagonalGaussian},
    {"mixtureLogDensity", MixtureLogDensity},
    {"mixtureBackward", MixtureBackward},
    {"adam", Adam},
    {"gaussianNoise", GaussianNoise},
    {"binarize", Binarize},
    {"gatherBytes", GatherBytes},
    {"im2col", Im2col},
    {"im2colBf16", Im2colBf16},
    {"col2im", Col2im},
    {"softmaxCrossEntropy", SoftmaxCrossEntropy},
    {"lstmForward", LstmForward},
    {"lstmBackward", LstmBackward},
    {"gruForward", GruForward},
    {"gruBackward", GruBackward},
    {"swapAxes", SwapAxes},
    {"mapFile", MapFile},
    {"adviseMapped", AdviseMapped},
    {"embeddingGather", EmbeddingGather},
    {"embeddingScatterAdd", EmbeddingScatterAdd},
};

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  initBlas();
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  for (const Kernel& kernel : kKernels) {
    napi_value fn = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_function(env, kernel.name, NAPI_AUTO_LENGTH,
                                                   kernel.callback, nullptr, &fn),
                         exports);
    exports.Set(kernel.name, Napi::Value(env, fn));
  }
  return exports;
}

}  // namespace vaekit

using vaekit::InitAddon;
NODE_API_MODULE(vaekit, InitAddon)
