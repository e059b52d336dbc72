// Matrix products through oneDNN (native/dnnl.cc): fp32, or bf16 inputs with fp32 accumulation.
// Same contract as gemm() in gemm.h. All of these work (and say "absent") in a build without oneDNN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vaekit {

bool dnnlCompiled();
// Why oneDNN products cannot run here (not built in, VAEKIT_DNNL=off, no engine), or nullptr.
const char* dnnlUnavailableReason();
const char* dnnlVersion();
// The instruction set oneDNN dispatches to on this CPU ("avx512_core_amx", "avx2", ...).
const char* dnnlIsa();
// Whether the CPU computes bf16 natively (AVX512-BF16 or AMX); elsewhere oneDNN would emulate it.
bool dnnlNativeBf16();
// The implementation oneDNN picked for the most recently made product of that precision ("" if none yet).
std::string dnnlKernel(bool bf16);

// C = alpha op(A) op(B) + beta C through oneDNN, in fp32, or with A and B in bf16 (their bits as
// uint16) and fp32 accumulation. False when oneDNN is unavailable or refused a shape (C then
// unchanged or partly written: callers check dnnlUnavailableReason() first).
bool gemmDnnlF32(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c);
bool gemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, const uint16_t* a,
              const uint16_t* b, float beta, float* c);
// C [m, n] = act(A B + bias) (A [m, k], B [k, n], no transposes): a dense layer's forward through
// oneDNN in fp32, the bias and activation applied to each part of C as it is finished, with the
// bits of gemmDnnlF32 then biasActivation. False as gemmDnnlF32.
bool gemmDnnlF32BiasActivation(int m, int n, int k, const float* a, const float* b, const float* bias,
                               int act, double slope, float* c);
// The same with A and B in bf16 (gemmBf16's operands), each row band's bias and activation applied
// as the band is finished.
bool gemmBf16BiasActivation(int m, int n, int k, const uint16_t* a, const uint16_t* b, const float* bias,
                            int act, double slope, float* c);

// Rounds n floats to bf16 (round to nearest even).
void toBf16(const float* from, uint16_t* to, size_t n);
// The same over the pool (at least 64K values a thread).
void toBf16OverPool(const float* from, uint16_t* to, size_t n);

}  // namespace vaekit
