// exp and log1p in float, written so that a loop calling them vectorizes (no libm calls, no
// branches): the Bernoulli loss and the sigmoid evaluate them for every pixel of every batch,
// where glibc's scalar expf/log1pf took most of the loss kernel's time. Both are accurate to a
// few float ulps; test/engine-agreement.test.ts checks them against the js backend's Math.exp /
// Math.log1p through the kernels that use them. expDouble is exp in double (within 1 ulp) for the
// mixture prior's float64 kernels, where glibc's scalar exp cost 8 ns a call. sigmoidFloat and
// tanhFloat, built on expNonPositive, are the recurrent cells' gate activations
// (test/text-kernels.test.ts checks them through lstmForward and gruForward).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vaekit {

// exp(x) for x <= 0; 0 below -87 (where float's normal range ends).
inline float expNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // x = n ln2 + r with |r| <= ln2 / 2; n rounded with the 1.5 * 2^23 trick (vectorizes everywhere).
  const float shifter = 12582912.0f;
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  // ln2 split in two (Cody-Waite) so that n * ln2 is exact enough for |n| <= 126.
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723212e-6f;
  // Taylor series of exp(r) to degree 7: the remainder is below 1e-8 relative for |r| <= 0.347.
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n, n in [-126, 0]
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// log1p(e) for e in [0, 1]: 2 atanh(s) with s = e / (2 + e) in [0, 1/3], by its odd series to s^13
// (remainder below 2e-8 relative). Small e keep full relative precision (s ~ e / 2, no 1 + e).
inline float log1pUnit(float e) {
  const float s = e / (2.0f + e);
  const float s2 = s * s;
  float p = 1.0f / 13;
  p = p * s2 + 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  p = p * s2 + 1.0f;
  return 2.0f * s * p;
}

// GCC keeps a call to a function this long out of line, and a call stops a loop vectorizing.
#if defined(__GNUC__)
#define VAEKIT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define VAEKIT_ALWAYS_INLINE inline
#endif

// sigmoid(x) = 1 / (1 + exp(-x)) with one exp of -|x|, so it never overflows: within 2.5 float ulps
// (checked over every 37th float of [-20, 20]).
VAEKIT_ALWAYS_INLINE float sigmoidFloat(float x) {
  const float e = expNonPositive(-std::fabs(x));
  return (x >= 0 ? 1.0f : e) / (1.0f + e);
}

// tanh(x), within 2.5 float ulps, branch-free (both halves are computed and one picked, so a loop
// calling it vectorizes): for |x| >= 0.5 from e = exp(-2|x|) as (1 - e) / (1 + e), where 1 - e >= 0.63
// cancels nothing; below, its Taylor series x (1 - x^2/3 + 2x^4/15 - ...) to x^15 (remainder below
// 1e-8 relative at 0.5). The LSTM's and GRU's gates (recurrent.cc) call it for every unit of every step.
VAEKIT_ALWAYS_INLINE float tanhFloat(float x) {
  const float a = std::fabs(x);
  const float e = expNonPositive(-2.0f * a);
  const float large = (1.0f - e) / (1.0f + e);
  const float s = a * a;
  float p = -929569.0f / 638512875;
  p = p * s + 21844.0f / 6081075;
  p = p * s - 1382.0f / 155925;
  p = p * s + 62.0f / 2835;
  p = p * s - 17.0f / 315;
  p = p * s + 2.0f / 15;
  p = p * s - 1.0f / 3;
  const float small = a + a * s * p;
  return std::copysign(a < 0.5f ? small : large, x);
}

constexpr double kRoundToInteger = 6755399441055744.0;  // 1.5 * 2^52: x + it - it rounds x

// 2^n for an integer-valued n in [-1022, 1023], built from its exponent bits: n + 1.5 * 2^52 holds
// n in its low mantissa bits.
VAEKIT_ALWAYS_INLINE double powerOfTwo(double n) {
  const double shifted = n + kRoundToInteger;
  uint64_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits = (bits + 1023) << 52;
  double result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

// exp(x) in double, within 1 ulp of the correctly rounded value; 0 below -708.39641853, just above
// ln(DBL_MIN) (results below double's normal range flush to 0, as expNonPositive's do below
// float's: a subnormal costs a microcode assist, and most of the mixture prior's responsibilities
// are that small); infinity above 710; NaN for NaN. x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite,
// fdlibm's split of ln2), then exp(r) by its Taylor series to degree 13 (remainder below 1e-17
// relative), times 2^n as two factors (n reaches 1024). Out of range, x is replaced by 0 and the
// result by 0 or infinity at the end, with bit masks: a branch, or a clamp (which GCC turns into
// one), stops the loop vectorizing.
VAEKIT_ALWAYS_INLINE double expDouble(double x) {
  const uint64_t under = 0 - static_cast<uint64_t>(x < -708.39641853);
  const uint64_t over = 0 - static_cast<uint64_t>(x > 710.0);
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits &= ~(under | over);
  std::memcpy(&x, &bits, sizeof x);
  const double n = (x * 1.4426950408889634074 + kRoundToInteger) - kRoundToInteger;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  // 1/13!, 1/12!, ..., 1/2!, 1, 1 (Horner's rule; the loop unrolls).
  constexpr double kTaylor[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                                1.0 / 3628800.0,    1.0 / 362880.0,    1.0 / 40320.0,
                                1.0 / 5040.0,       1.0 / 720.0,       1.0 / 120.0,
                                1.0 / 24.0,         1.0 / 6.0,         0.5,
                                1.0,                1.0};
  double p = kTaylor[0];
  for (size_t i = 1; i < sizeof kTaylor / sizeof kTaylor[0]; i++) p = p * r + kTaylor[i];
  const double half = (n * 0.5 + kRoundToInteger) - kRoundToInteger;
  const double y = p * powerOfTwo(half) * powerOfTwo(n - half);
  std::memcpy(&bits, &y, sizeof bits);
  bits = (bits & ~(under | over)) | (over & 0x7ff0000000000000ull);
  double result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

}  // namespace vaekit
