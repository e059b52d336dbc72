// float -> bf16 (its upper 16 bits), round to nearest even; a NaN stays a quiet NaN. Inline, so
// the loops that use it (toBf16, im2colBf16, Adam's bf16 copy of the weights) vectorize.
#pragma once

#include <cstdint>
#include <cstring>

namespace vaekit {

inline uint16_t bf16Of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded);
}

}  // namespace vaekit
