// VAEKIT_SIMD_CLONES before a hot loop's function compiles it for AVX-512, AVX2 and the baseline
// x86-64, and lets the loader pick the best for the CPU (GCC/Clang target_clones on x86-64 Linux).
// Elsewhere it expands to nothing and the baseline build runs. The addon is built without
// -march=native so that it runs on any machine of its architecture.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define VAEKIT_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VAEKIT_SIMD_CLONES
#endif
