// VAEKIT_SIMD_CLONES before a hot loop's function compiles it for AVX-512, AVX2 and the baseline
// x86-64, and lets the loader pick the best for the CPU (GCC/Clang target_clones on x86-64 Linux).
// Elsewhere it expands to nothing and the baseline build runs. The addon is built without
// -march=native so that it runs on any machine of its architecture.
#pragma once

#include <algorithm>
#include <cstdlib>

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define VAEKIT_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VAEKIT_SIMD_CLONES
#endif

// runWidest<Kernel>(args...) is for kernels written in vectors of W doubles (GCC/Clang vector
// types): it runs Kernel::run<W>(args...) with the widest W the CPU's registers hold, compiled for
// that instruction set: 8 (AVX-512), 4 (AVX2 with FMA) or 2 (SSE2, and other architectures'
// 128-bit units). One vector type cannot serve the clones above: a vector wider than the target's
// registers is split by the compiler into pieces kept in memory, which ran a kernel 30x slower
// than in registers. Kernel::run must be always inline, so that it is compiled inside the
// wrapper for the wrapper's instruction set. VAEKIT_SIMD_WIDTH=2 or 4 caps W, so that the
// narrower kernels can be tested on a wider CPU.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VAEKIT_SIMD_WIDTHS 1

inline int simdDoubles() {
  static const int width = [] {
    const int widest = __builtin_cpu_supports("avx512f")                                   ? 8
                       : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 4
                                                                                          : 2;
    const char* cap = std::getenv("VAEKIT_SIMD_WIDTH");
    const long capped = cap != nullptr ? std::strtol(cap, nullptr, 10) : 0;
    return capped == 2 || capped == 4 ? std::min(widest, static_cast<int>(capped)) : widest;
  }();
  return width;
}

template <typename Kernel, typename... Args>
__attribute__((target("avx512f,avx2,fma"))) void runAvx512(Args... args) {
  Kernel::template run<8>(args...);
}

template <typename Kernel, typename... Args>
__attribute__((target("avx2,fma"))) void runAvx2(Args... args) {
  Kernel::template run<4>(args...);
}
#endif

template <typename Kernel, typename... Args>
void runWidest(Args... args) {
#if defined(VAEKIT_SIMD_WIDTHS)
  if (simdDoubles() == 8) return runAvx512<Kernel>(args...);
  if (simdDoubles() == 4) return runAvx2<Kernel>(args...);
#endif
  Kernel::template run<2>(args...);
}
