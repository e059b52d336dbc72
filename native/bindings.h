// The addon's kernel entry points, one per Backend method (plus gemmPortable). Each takes the
// Backend method's arguments in the same order, with activations as ACTIVATION_CODE integers and
// absent gradients as null; each validates sizes against array lengths and throws before writing.
#pragma once

#include <node_api.h>

namespace vaekit {

napi_value Gemm(napi_env env, napi_callback_info info);
napi_value GemmPortable(napi_env env, napi_callback_info info);
napi_value GemmBlas(napi_env env, napi_callback_info info);
napi_value GemmBf16(napi_env env, napi_callback_info info);
napi_value GemmDnnlF32(napi_env env, napi_callback_info info);
napi_value ToBf16(napi_env env, napi_callback_info info);

napi_value BiasActivation(napi_env env, napi_callback_info info);
napi_value ActivationBackward(napi_env env, napi_callback_info info);
napi_value ActivationBiasBackward(napi_env env, napi_callback_info info);
napi_value GemmBiasActivation(napi_env env, napi_callback_info info);
napi_value GemmBf16BiasActivation(napi_env env, napi_callback_info info);

napi_value SumRows(napi_env env, napi_callback_info info);
napi_value SumCols(napi_env env, napi_callback_info info);
napi_value Sum(napi_env env, napi_callback_info info);
napi_value CountNonFinite(napi_env env, napi_callback_info info);

napi_value Add(napi_env env, napi_callback_info info);
napi_value Sub(napi_env env, napi_callback_info info);
napi_value Mul(napi_env env, napi_callback_info info);
napi_value Scale(napi_env env, napi_callback_info info);
napi_value Axpy(napi_env env, napi_callback_info info);
napi_value SumShards(napi_env env, napi_callback_info info);
napi_value SerialKernels(napi_env env, napi_callback_info info);

napi_value BceWithLogits(napi_env env, napi_callback_info info);
napi_value SquaredError(napi_env env, napi_callback_info info);
napi_value GaussianNll(napi_env env, napi_callback_info info);

napi_value Reparameterize(napi_env env, napi_callback_info info);
napi_value ReparameterizeBackward(napi_env env, napi_callback_info info);
napi_value KlDiagonalGaussian(napi_env env, napi_callback_info info);

napi_value Adam(napi_env env, napi_callback_info info);

napi_value MixtureLogDensity(napi_env env, napi_callback_info info);
napi_value MixtureBackward(napi_env env, napi_callback_info info);

napi_value GaussianNoise(napi_env env, napi_callback_info info);
napi_value Binarize(napi_env env, napi_callback_info info);
napi_value GatherBytes(napi_env env, napi_callback_info info);

napi_value Im2col(napi_env env, napi_callback_info info);
napi_value Im2colBf16(napi_env env, napi_callback_info info);
napi_value Col2im(napi_env env, napi_callback_info info);

napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info);
napi_value LstmForward(napi_env env, napi_callback_info info);
napi_value LstmBackward(napi_env env, napi_callback_info info);
napi_value GruForward(napi_env env, napi_callback_info info);
napi_value GruBackward(napi_env env, napi_callback_info info);
napi_value SwapAxes(napi_env env, napi_callback_info info);
napi_value EmbeddingGather(napi_env env, napi_callback_info info);
napi_value EmbeddingScatterAdd(napi_env env, napi_callback_info info);

// Not kernels: scratch files mapped into memory, and reading them ahead (native/mapped.cc,
// src/io/mapped.ts).
napi_value MapFile(napi_env env, napi_callback_info info);
napi_value AdviseMapped(napi_env env, napi_callback_info info);

}  // namespace vaekit
