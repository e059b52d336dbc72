// exp and log1p in float, written so that a loop calling them vectorizes (no libm calls, no
// branches): the Bernoulli loss and the sigmoid evaluate them for every pixel of every batch,
// where glibc's scalar expf/log1pf took most of the loss kernel's time. Both are accurate to a
// few float ulps; test/engine-agreement.test.ts checks them against the js backend's Math.exp /
// Math.log1p through the kernels that use them.
#pragma once

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

}  // namespace vaekit
