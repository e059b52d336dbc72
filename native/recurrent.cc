// The recurrent cells' per-step elementwise work, forward and backward side by side: the LSTM's
// and the GRU's gate activations and state update for one step of a block of rows, and the gate
// gradients of that step (src/engine/backend.ts says what each computes). The products (x W_ih^T
// for every step, h W_hh^T and dgates W_hh per step) stay with the caller's gemm.
//
// Rows are split across the cores (whole rows per thread); every value depends on its own row only,
// so the bits do not depend on the thread count. Forward runs in float with the vectorized sigmoid
// and tanh of fastmath.h (within 2.5 ulps); backward has no transcendental and runs in double, as
// the js backend does. A row past its length (step >= lengths[b]) carries its state forward and
// its gradient back, which is how the layers mask padding.
#include <cstdint>
#include <cstring>

#include "args.h"
#include "bindings.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

// A step's block is split across the cores from 2 x 8192 units: the text preset's 32 rows x 256
// units take about 17 us forward and 8 us backward on one core of a 2-core EPYC, where the pool's
// hand-off costs a few microseconds when its workers are spinning and far more when the machine is
// busy (measured there: 75 us forward with two threads under load, against 17 us inline).
constexpr size_t kMinUnitsPerThread = 8192;

VAEKIT_SIMD_CLONES
void lstmForwardRows(float* __restrict gates, const float* __restrict hPrev,
                     const float* __restrict cPrev, float* __restrict h, float* __restrict c,
                     float* __restrict tanhC, const int32_t* lengths, int64_t step, size_t begin,
                     size_t end, size_t H) {
  for (size_t b = begin; b < end; b++) {
    const size_t o = b * H;
    if (step >= lengths[b]) {
      std::memcpy(h + o, hPrev + o, H * sizeof(float));
      std::memcpy(c + o, cPrev + o, H * sizeof(float));
      continue;
    }
    float* __restrict g = gates + b * 4 * H;
    for (size_t j = 0; j < H; j++) {
      const float i = sigmoidFloat(g[j]);
      const float f = sigmoidFloat(g[H + j]);
      const float gg = tanhFloat(g[2 * H + j]);
      const float og = sigmoidFloat(g[3 * H + j]);
      g[j] = i;
      g[H + j] = f;
      g[2 * H + j] = gg;
      g[3 * H + j] = og;
      const float cn = f * cPrev[o + j] + i * gg;
      c[o + j] = cn;
      const float th = tanhFloat(cn);
      tanhC[o + j] = th;
      h[o + j] = og * th;
    }
  }
}

template <bool kDOut>
VAEKIT_SIMD_CLONES
void lstmBackwardRows(const float* __restrict gates, const float* __restrict cPrev,
                      const float* __restrict tanhC, const float* __restrict dh,
                      const float* __restrict dOut, size_t dOutStride, float* __restrict dc,
                      float* __restrict dGates, float* __restrict dhPrev, const int32_t* lengths,
                      int64_t step, size_t begin, size_t end, size_t H) {
  for (size_t b = begin; b < end; b++) {
    const size_t o = b * H;
    const float* __restrict g = gates + b * 4 * H;
    float* __restrict dg = dGates + b * 4 * H;
    if (step >= lengths[b]) {
      std::memset(dg, 0, 4 * H * sizeof(float));
      std::memcpy(dhPrev + o, dh + o, H * sizeof(float));
      continue;
    }
    const float* __restrict d = kDOut ? dOut + b * dOutStride : nullptr;
    for (size_t j = 0; j < H; j++) {
      const double i = g[j];
      const double f = g[H + j];
      const double gg = g[2 * H + j];
      const double og = g[3 * H + j];
      const double th = tanhC[o + j];
      const double dH = kDOut ? static_cast<double>(dh[o + j]) + d[j] : static_cast<double>(dh[o + j]);
      const double dC = dc[o + j] + dH * og * (1 - th * th);
      dg[j] = static_cast<float>(dC * gg * i * (1 - i));
      dg[H + j] = static_cast<float>(dC * cPrev[o + j] * f * (1 - f));
      dg[2 * H + j] = static_cast<float>(dC * i * (1 - gg * gg));
      dg[3 * H + j] = static_cast<float>(dH * th * og * (1 - og));
      dc[o + j] = static_cast<float>(dC * f);
      dhPrev[o + j] = 0.0f;
    }
  }
}

VAEKIT_SIMD_CLONES
void gruForwardRows(float* __restrict gates, const float* __restrict hh,
                    const float* __restrict biasHh, const float* __restrict hPrev,
                    float* __restrict h, float* __restrict hiddenN, const int32_t* lengths,
                    int64_t step, size_t begin, size_t end, size_t H) {
  for (size_t b = begin; b < end; b++) {
    const size_t o = b * H;
    if (step >= lengths[b]) {
      std::memcpy(h + o, hPrev + o, H * sizeof(float));
      continue;
    }
    float* __restrict g = gates + b * 3 * H;
    const float* __restrict s = hh + b * 3 * H;
    for (size_t j = 0; j < H; j++) {
      const float r = sigmoidFloat(g[j] + (s[j] + biasHh[j]));
      const float z = sigmoidFloat(g[H + j] + (s[H + j] + biasHh[H + j]));
      const float hn = s[2 * H + j] + biasHh[2 * H + j];
      const float n = tanhFloat(g[2 * H + j] + r * hn);
      g[j] = r;
      g[H + j] = z;
      g[2 * H + j] = n;
      hiddenN[o + j] = hn;
      h[o + j] = (1.0f - z) * n + z * hPrev[o + j];
    }
  }
}

template <bool kDOut>
VAEKIT_SIMD_CLONES
void gruBackwardRows(const float* __restrict gates, const float* __restrict hiddenN,
                     const float* __restrict hPrev, const float* __restrict dh,
                     const float* __restrict dOut, size_t dOutStride, float* __restrict dGates,
                     float* __restrict dGh, float* __restrict dhPrev, const int32_t* lengths,
                     int64_t step, size_t begin, size_t end, size_t H) {
  for (size_t b = begin; b < end; b++) {
    const size_t o = b * H;
    const float* __restrict g = gates + b * 3 * H;
    float* __restrict dx = dGates + b * 3 * H;
    float* __restrict dhh = dGh + b * 3 * H;
    if (step >= lengths[b]) {
      std::memset(dx, 0, 3 * H * sizeof(float));
      std::memset(dhh, 0, 3 * H * sizeof(float));
      std::memcpy(dhPrev + o, dh + o, H * sizeof(float));
      continue;
    }
    const float* __restrict d = kDOut ? dOut + b * dOutStride : nullptr;
    for (size_t j = 0; j < H; j++) {
      const double r = g[j];
      const double z = g[H + j];
      const double n = g[2 * H + j];
      const double dH = kDOut ? static_cast<double>(dh[o + j]) + d[j] : static_cast<double>(dh[o + j]);
      const double dn = dH * (1 - z) * (1 - n * n);
      const double dr = dn * hiddenN[o + j] * r * (1 - r);
      const double dz = dH * (hPrev[o + j] - n) * z * (1 - z);
      dx[j] = static_cast<float>(dr);
      dx[H + j] = static_cast<float>(dz);
      dx[2 * H + j] = static_cast<float>(dn);
      dhh[j] = static_cast<float>(dr);
      dhh[H + j] = static_cast<float>(dz);
      dhh[2 * H + j] = static_cast<float>(dn * r);
      dhPrev[o + j] = static_cast<float>(dH * z);
    }
  }
}

// Runs body(firstRow, endRow) over the block's rows, split by whole rows when it is large enough.
template <typename F>
void forRows(size_t rows, size_t H, F&& body) {
  if (rows == 0 || H == 0) return;
  parallelFor(rows * H, kMinUnitsPerThread, H, [&](size_t begin, size_t end) {
    body(begin / H, end / H);
  });
}

// Reads step (an integer, possibly past every length) and the lengths of `rows` rows.
struct StepArgs {
  int64_t step = 0;
  const int32_t* lengths = nullptr;
};

StepArgs stepArgs(Args& args, size_t lengthsIndex, size_t stepIndex, uint64_t rows) {
  StepArgs s;
  s.lengths = args.int32s(lengthsIndex, "lengths", rows);
  s.step = static_cast<int64_t>(args.size(stepIndex, "step"));
  return s;
}

// dOut (null, or rows whose row b starts at b * dOutStride) needs (rows - 1) * stride + H values.
uint64_t stridedNeed(uint64_t rows, uint64_t stride, uint64_t H) {
  return rows == 0 ? 0 : (rows - 1) * stride + H;
}

}  // namespace

// lstmForward(gates, hPrev, cPrev, h, c, tanhC, lengths, step, rows, hidden)
napi_value LstmForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "lstmForward");
  const uint64_t rows = args.size(8, "rows");
  const uint64_t H = args.size(9, "hidden");
  const uint64_t n = rows * H;
  float* gates = args.floats(0, "gates", 4 * n);
  const float* hPrev = args.floats(1, "hPrev", n);
  const float* cPrev = args.floats(2, "cPrev", n);
  float* h = args.floats(3, "h", n);
  float* c = args.floats(4, "c", n);
  float* tanhC = args.floats(5, "tanhC", n);
  const StepArgs s = stepArgs(args, 6, 7, rows);
  if (!args.ok()) return nullptr;
  forRows(rows, H, [&](size_t begin, size_t end) {
    lstmForwardRows(gates, hPrev, cPrev, h, c, tanhC, s.lengths, s.step, begin, end, H);
  });
  return undefinedValue(env);
}

// lstmBackward(gates, cPrev, tanhC, dh, dOut, dOutStride, dc, dGates, dhPrev, lengths, step, rows, hidden)
napi_value LstmBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "lstmBackward");
  const uint64_t rows = args.size(11, "rows");
  const uint64_t H = args.size(12, "hidden");
  const uint64_t stride = args.size(5, "dOutStride");
  const uint64_t n = rows * H;
  const float* gates = args.floats(0, "gates", 4 * n);
  const float* cPrev = args.floats(1, "cPrev", n);
  const float* tanhC = args.floats(2, "tanhC", n);
  const float* dh = args.floats(3, "dh", n);
  const float* dOut = args.optionalFloats(4, "dOut", stridedNeed(rows, stride, H));
  float* dc = args.floats(6, "dc", n);
  float* dGates = args.floats(7, "dGates", 4 * n);
  float* dhPrev = args.floats(8, "dhPrev", n);
  const StepArgs s = stepArgs(args, 9, 10, rows);
  if (!args.ok()) return nullptr;
  forRows(rows, H, [&](size_t begin, size_t end) {
    if (dOut != nullptr) {
      lstmBackwardRows<true>(gates, cPrev, tanhC, dh, dOut, stride, dc, dGates, dhPrev, s.lengths,
                             s.step, begin, end, H);
    } else {
      lstmBackwardRows<false>(gates, cPrev, tanhC, dh, nullptr, 0, dc, dGates, dhPrev, s.lengths,
                              s.step, begin, end, H);
    }
  });
  return undefinedValue(env);
}

// gruForward(gates, hh, biasHh, hPrev, h, hiddenN, lengths, step, rows, hidden)
napi_value GruForward(napi_env env, napi_callback_info info) {
  Args args(env, info, "gruForward");
  const uint64_t rows = args.size(8, "rows");
  const uint64_t H = args.size(9, "hidden");
  const uint64_t n = rows * H;
  float* gates = args.floats(0, "gates", 3 * n);
  const float* hh = args.floats(1, "hh", 3 * n);
  const float* biasHh = args.floats(2, "biasHh", 3 * H);
  const float* hPrev = args.floats(3, "hPrev", n);
  float* h = args.floats(4, "h", n);
  float* hiddenN = args.floats(5, "hiddenN", n);
  const StepArgs s = stepArgs(args, 6, 7, rows);
  if (!args.ok()) return nullptr;
  forRows(rows, H, [&](size_t begin, size_t end) {
    gruForwardRows(gates, hh, biasHh, hPrev, h, hiddenN, s.lengths, s.step, begin, end, H);
  });
  return undefinedValue(env);
}

// gruBackward(gates, hiddenN, hPrev, dh, dOut, dOutStride, dGates, dGh, dhPrev, lengths, step, rows, hidden)
napi_value GruBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "gruBackward");
  const uint64_t rows = args.size(11, "rows");
  const uint64_t H = args.size(12, "hidden");
  const uint64_t stride = args.size(5, "dOutStride");
  const uint64_t n = rows * H;
  const float* gates = args.floats(0, "gates", 3 * n);
  const float* hiddenN = args.floats(1, "hiddenN", n);
  const float* hPrev = args.floats(2, "hPrev", n);
  const float* dh = args.floats(3, "dh", n);
  const float* dOut = args.optionalFloats(4, "dOut", stridedNeed(rows, stride, H));
  float* dGates = args.floats(6, "dGates", 3 * n);
  float* dGh = args.floats(7, "dGh", 3 * n);
  float* dhPrev = args.floats(8, "dhPrev", n);
  const StepArgs s = stepArgs(args, 9, 10, rows);
  if (!args.ok()) return nullptr;
  forRows(rows, H, [&](size_t begin, size_t end) {
    if (dOut != nullptr) {
      gruBackwardRows<true>(gates, hiddenN, hPrev, dh, dOut, stride, dGates, dGh, dhPrev, s.lengths,
                            s.step, begin, end, H);
    } else {
      gruBackwardRows<false>(gates, hiddenN, hPrev, dh, nullptr, 0, dGates, dGh, dhPrev, s.lengths,
                             s.step, begin, end, H);
    }
  });
  return undefinedValue(env);
}

}  // namespace vaekit
