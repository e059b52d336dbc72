// Dense-layer activations (native/activation.cc), for the kernels that apply them as an epilogue:
// oneDNN's products apply a layer's bias and activation to each part of C as it is finished
// (dnnl.cc), with the same arithmetic as biasActivation, so the same bits.
#pragma once

#include <cstddef>

namespace vaekit {

class Args;

// The activation codes of src/engine/backend.ts' ACTIVATION_CODE.
enum ActivationCode { kLinear = 0, kRelu = 1, kLeakyRelu = 2, kTanh = 3, kSigmoid = 4 };

// A layer's bias and activation, applied to a product's result (bias null: none).
struct Epilogue {
  const float* bias;
  int act;
  double slope;
};

// y[r, j] = act(x[r, j] + bias[j]) for rows [rowBegin, rowEnd), on this thread. y may alias x.
void biasActivationRows(const float* x, const float* bias, float* y, size_t rowBegin, size_t rowEnd,
                        size_t cols, int act, double slope);

// The same over `rows` rows, over the pool.
void biasActivation(const float* x, const float* bias, float* y, size_t rows, size_t cols, int act,
                    double slope);

// Argument `index`, an activation code; fails args where it names none.
int activationCode(Args& args, size_t index);

}  // namespace vaekit
