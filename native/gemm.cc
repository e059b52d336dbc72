#include "gemm.h"
#include "parallel.h"
#include "fastmath.h"
#include "simd.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#ifdef VAEKIT_OPENBLAS
#include <cblas.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace vaekit {
namespace {

// Products with fewer multiply-adds than this run on one thread (waking the pool costs more).
constexpr size_t kMinParallelWork = size_t{1} << 19;

// The bundled kernel is the classic blocked product (Goto's): a KC x NC panel of op(B) is packed
// into NR-column slivers that stay in L2, an MC x KC block of op(A) into MR-row slivers, and a
// microkernel keeps an MR x NR tile of C in registers while it walks one A sliver (in L1) and one B
// sliver. Packing serves all four transposes (the microkernel only ever sees contiguous slivers),
// pads the edges with zeros, and folds alpha into A. C is written once per KC block: beta is
// applied by the first block's stores (beta == 0 writes without reading, so NaN in C does not
// survive), so a product with k <= KC touches C once.
//
// Each element of C is the same sum in the same order (k ascending, KC blocks in turn) whichever
// tile it falls in and whoever calls, so a call's bits depend only on its inputs and on which
// microkernel the CPU runs. The microkernel is chosen once per process: AVX-512 (8 x 32 tile), AVX2
// with FMA (6 x 16), else plain C++ (4 x 8, vectorized by the compiler for the baseline).
constexpr int KC = 256;
constexpr int MC = 192;  // a multiple of every MR
constexpr int NC = 512;  // KC x NC floats (512 KB) stay in L2

void scaleC(int m, int n, float beta, float* c) {
  const size_t size = static_cast<size_t>(m) * n;
  if (beta == 0.0f) {
    std::fill(c, c + size, 0.0f);
  } else if (beta != 1.0f) {
    for (size_t i = 0; i < size; i++) c[i] *= beta;
  }
}

// Writes an mr x nr tile: C = acc where beta == 0, else C = beta * C + acc.
inline float blend(float acc, float beta, float c) { return beta == 0.0f ? acc : beta * c + acc; }

// A full or partial NR-column sliver of op(B) = B^T: src is row jc + js of the stored B at column
// pc, and rows past cols are zero.
template <int NR>
VAEKIT_ALWAYS_INLINE void packTransposedPlain(const float* src, size_t k, int kc, int cols, float* sliver) {
  for (int j = 0; j < NR; j++)
    for (int p = 0; p < kc; p++) sliver[p * NR + j] = j < cols ? src[j * k + p] : 0.0f;
}

struct PlainTile {
  static constexpr int MR = 4;
  static constexpr int NR = 8;
  static void packTransposed(const float* src, size_t k, int kc, int cols, float* sliver) {
    packTransposedPlain<NR>(src, k, kc, cols, sliver);
  }
  // Out of line on purpose: inlined into the driver, GCC kept the accumulators in memory (4x slower).
  static void run(int kc, const float* __restrict a, const float* __restrict b,
                                       float* c, size_t ldc, int mr, int nr, float beta) {
    float acc[MR][NR] = {};
    for (int p = 0; p < kc; p++) {
      for (int i = 0; i < MR; i++) {
        const float ai = a[p * MR + i];
        for (int j = 0; j < NR; j++) acc[i][j] += ai * b[p * NR + j];
      }
    }
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) c[i * ldc + j] = blend(acc[i][j], beta, c[i * ldc + j]);
  }
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VAEKIT_GEMM_X86 1

// packTransposedPlain with 8 x 8 blocks transposed in registers: a scalar copy of B^T (one load and
// one store a float) took half the time of a 16-row input gradient.
template <int NR>
__attribute__((target("avx2"))) void packTransposedAvx(const float* src, size_t k, int kc, int cols,
                                                       float* sliver) {
  for (int j0 = 0; j0 < NR; j0 += 8) {
    const float* row[8];
    for (int q = 0; q < 8; q++) row[q] = src + static_cast<size_t>(std::min(j0 + q, cols - 1)) * k;
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
      __m256 v[8];
      for (int q = 0; q < 8; q++) v[q] = j0 + q < cols ? _mm256_loadu_ps(row[q] + p) : _mm256_setzero_ps();
      __m256 t[8];
      for (int q = 0; q < 8; q += 2) {
        t[q] = _mm256_unpacklo_ps(v[q], v[q + 1]);
        t[q + 1] = _mm256_unpackhi_ps(v[q], v[q + 1]);
      }
      __m256 u[8];
      for (int q = 0; q < 8; q += 4) {
        u[q] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(sliver + (p + q) * NR + j0, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
        _mm256_storeu_ps(sliver + (p + q + 4) * NR + j0, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
      }
    }
    for (; p < kc; p++)
      for (int q = 0; q < 8; q++) sliver[p * NR + j0 + q] = j0 + q < cols ? row[q][p] : 0.0f;
  }
}

// 16 accumulators of 16 floats: enough independent FMA chains to hide their latency on both
// Intel's two FMA units and AMD's one (double-pumped), with 2 loads of B and 8 broadcasts of A per
// 16 FMAs. 8 rows also divide the seed's row counts (16, 40, 128, 512, 784).
struct Avx512Tile {
  static constexpr int MR = 8;
  static constexpr int NR = 32;
  static void packTransposed(const float* src, size_t k, int kc, int cols, float* sliver) {
    packTransposedAvx<NR>(src, k, kc, cols, sliver);
  }
  __attribute__((target("avx512f"))) static void run(int kc, const float* __restrict a,
                                                     const float* __restrict b, float* c,
                                                     size_t ldc, int mr, int nr, float beta) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
      const __m512 b0 = _mm512_loadu_ps(b + p * NR);
      const __m512 b1 = _mm512_loadu_ps(b + p * NR + 16);
      for (int i = 0; i < MR; i++) {
        const __m512 ai = _mm512_set1_ps(a[p * MR + i]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1);
    const __m512 vbeta = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
      float* ci = c + i * ldc;
      __m512 r0 = acc[i][0];
      __m512 r1 = acc[i][1];
      if (beta != 0.0f) {
        r0 = _mm512_add_ps(_mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m0, ci)), r0);
        r1 = _mm512_add_ps(_mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m1, ci + 16)), r1);
      }
      _mm512_mask_storeu_ps(ci, m0, r0);
      _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
  }
};

// 12 accumulators of 8 floats, 2 loads of B and 6 broadcasts: 15 of the 16 ymm registers.
struct Avx2Tile {
  static constexpr int MR = 6;
  static constexpr int NR = 16;
  static void packTransposed(const float* src, size_t k, int kc, int cols, float* sliver) {
    packTransposedAvx<NR>(src, k, kc, cols, sliver);
  }
  __attribute__((target("avx2,fma"))) static void run(int kc, const float* __restrict a,
                                                      const float* __restrict b, float* c,
                                                      size_t ldc, int mr, int nr, float beta) {
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
      const __m256 b0 = _mm256_loadu_ps(b + p * NR);
      const __m256 b1 = _mm256_loadu_ps(b + p * NR + 8);
      for (int i = 0; i < MR; i++) {
        const __m256 ai = _mm256_broadcast_ss(a + p * MR + i);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
    // Lane j of the mask is set where j < nr (and, for the second half, j + 8 < nr).
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lanes);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lanes);
    const __m256 vbeta = _mm256_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
      float* ci = c + i * ldc;
      __m256 r0 = acc[i][0];
      __m256 r1 = acc[i][1];
      if (beta != 0.0f) {
        r0 = _mm256_add_ps(_mm256_mul_ps(vbeta, _mm256_maskload_ps(ci, m0)), r0);
        r1 = _mm256_add_ps(_mm256_mul_ps(vbeta, _mm256_maskload_ps(ci + 8, m1)), r1);
      }
      _mm256_maskstore_ps(ci, m0, r0);
      _mm256_maskstore_ps(ci + 8, m1, r1);
    }
  }
};
#endif

// op(A)[ic.., pc..] (mc x kc) as MR-row slivers, each kc x MR, times alpha; rows past mc are zero.
template <int MR>
VAEKIT_ALWAYS_INLINE void packA(bool transA, int m, int k, float alpha, const float* a, int ic, int pc,
                                int mc, int kc, float* out) {
  for (int is = 0; is < mc; is += MR) {
    float* sliver = out + static_cast<size_t>(is) * kc;
    const int rows = std::min(MR, mc - is);
    if (transA) {
      // Row p of the stored A holds the sliver's MR values for step p side by side.
      for (int p = 0; p < kc; p++) {
        const float* src = a + static_cast<size_t>(pc + p) * m + ic + is;
        for (int i = 0; i < MR; i++) sliver[p * MR + i] = i < rows ? alpha * src[i] : 0.0f;
      }
    } else if (rows == MR) {
      const float* src = a + static_cast<size_t>(ic + is) * k + pc;
      for (int p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) sliver[p * MR + i] = alpha * src[static_cast<size_t>(i) * k + p];
    } else {
      const float* src = a + static_cast<size_t>(ic + is) * k + pc;
      for (int p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) sliver[p * MR + i] = i < rows ? alpha * src[static_cast<size_t>(i) * k + p] : 0.0f;
    }
  }
}

// op(B)[pc.., jc..] (kc x nc) as NR-column slivers, each kc x NR; columns past nc are zero.
template <typename Tile>
VAEKIT_ALWAYS_INLINE void packB(bool transB, int n, int k, const float* b, int pc, int jc, int kc,
                                int nc, float* out) {
  constexpr int NR = Tile::NR;
  for (int js = 0; js < nc; js += NR) {
    float* sliver = out + static_cast<size_t>(js) * kc;
    const int cols = std::min(NR, nc - js);
    if (transB) {
      Tile::packTransposed(b + static_cast<size_t>(jc + js) * k + pc, k, kc, cols, sliver);
    } else if (cols == NR) {
      for (int p = 0; p < kc; p++) {
        const float* src = b + static_cast<size_t>(pc + p) * n + jc + js;
        for (int j = 0; j < NR; j++) sliver[p * NR + j] = src[j];
      }
    } else {
      for (int p = 0; p < kc; p++) {
        const float* src = b + static_cast<size_t>(pc + p) * n + jc + js;
        for (int j = 0; j < NR; j++) sliver[p * NR + j] = j < cols ? src[j] : 0.0f;
      }
    }
  }
}

// A thread's packing buffer, 64-byte aligned, grown once and reused by every later call.
float* scratch(std::vector<float>& buffer, size_t floats) {
  if (buffer.size() < floats + 16) buffer.resize(floats + 16);
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

template <typename Tile>
VAEKIT_ALWAYS_INLINE void gemmBlocked(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  constexpr int MR = Tile::MR;
  constexpr int NR = Tile::NR;
  thread_local std::vector<float> bufferA;
  thread_local std::vector<float> bufferB;
  float* pa = scratch(bufferA, static_cast<size_t>(MC) * KC);
  float* pb = scratch(bufferB, static_cast<size_t>(NC) * KC);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const float scale = pc == 0 ? beta : 1.0f;
      packB<Tile>(transB, n, k, b, pc, jc, kc, nc, pb);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        packA<MR>(transA, m, k, alpha, a, ic, pc, mc, kc, pa);
        // The A sliver (kc x MR) stays in L1 while the B slivers stream from L2.
        for (int is = 0; is < mc; is += MR) {
          for (int js = 0; js < nc; js += NR) {
            float* tile = c + static_cast<size_t>(ic + is) * n + jc + js;
            Tile::run(kc, pa + static_cast<size_t>(is) * kc, pb + static_cast<size_t>(js) * kc, tile,
                      n, std::min(MR, mc - is), std::min(NR, nc - js), scale);
          }
        }
      }
    }
  }
}

using GemmFn = void (*)(bool, bool, int, int, int, float, const float*, const float*, float, float*);

// The whole product, packing included, compiled for each instruction set.
void gemmPlain(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
               const float* b, float beta, float* c) {
  gemmBlocked<PlainTile>(transA, transB, m, n, k, alpha, a, b, beta, c);
}

#if defined(VAEKIT_GEMM_X86)
__attribute__((target("avx512f"))) void gemmAvx512(bool transA, bool transB, int m, int n, int k,
                                                   float alpha, const float* a, const float* b,
                                                   float beta, float* c) {
  gemmBlocked<Avx512Tile>(transA, transB, m, n, k, alpha, a, b, beta, c);
}

__attribute__((target("avx2,fma"))) void gemmAvx2(bool transA, bool transB, int m, int n, int k,
                                                  float alpha, const float* a, const float* b,
                                                  float beta, float* c) {
  gemmBlocked<Avx2Tile>(transA, transB, m, n, k, alpha, a, b, beta, c);
}
#endif

// simd.h's simdDoubles() says what the CPU runs (and VAEKIT_SIMD_WIDTH=2 or 4 caps it, so that
// tests reach the narrower kernels on a wider CPU).
GemmFn portableKernel() {
#if defined(VAEKIT_GEMM_X86)
  if (simdDoubles() == 8) return gemmAvx512;
  if (simdDoubles() == 4) return gemmAvx2;
#endif
  return gemmPlain;
}

// One product on the calling thread.
void portableProduct(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                     const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scaleC(m, n, beta, c);
    return;
  }
  static const GemmFn kernel = portableKernel();
  kernel(transA, transB, m, n, k, alpha, a, b, beta, c);
}

}  // namespace

// The bundled kernel over the pool, in bands of rows of C fixed by m alone (at least 64 rows, at
// most 8 bands, as dnnl.cc cuts oneDNN's products), so that its bits never depend on the thread
// count. A band of a transposed A (a weight gradient's) is copied out row-major first: its rows are
// strided columns of A's storage, which the kernel does not take.
void gemmPortable(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                  const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  const size_t work = static_cast<size_t>(m) * n * (k > 0 ? k : 1);
  const size_t bands = work >= kMinParallelWork ? std::min<size_t>(8, (static_cast<size_t>(m) + 63) / 64) : 1;
  if (bands == 1 || k <= 0) {
    portableProduct(transA, transB, m, n, k, alpha, a, b, beta, c);
    return;
  }
  parallelUnits(static_cast<size_t>(m), bands, 16, [&](size_t r0, size_t r1) {
    const float* band = transA ? transposedRows(a, m, k, r0, r1) : a + r0 * static_cast<size_t>(k);
    portableProduct(false, transB, static_cast<int>(r1 - r0), n, k, alpha, band, b, beta, c + r0 * static_cast<size_t>(n));
  });
}

#ifdef VAEKIT_OPENBLAS

// OpenBLAS runs single-threaded and vaekit's own pool splits each product by columns of C: one
// set of threads for products and elementwise kernels alike. With OpenBLAS' own threads beside
// the pool, each side's spinning workers took cores from the other, and epochs were up to 1.6x
// slower and far less steady (bench/profile-step.ts, BENCHMARKS.md). The columns are cut into
// bands of about 64 fixed by n alone (parallelUnits): OpenBLAS picks its kernel by a call's size
// (a band of 16 columns gave other bits than 64), so bands that followed the thread count made a
// run's bits depend on it.
void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    scaleC(m, n, beta, c);  // BLAS would reject lda = 0 for some shapes; the result is beta * C
    return;
  }
  const int lda = transA ? m : k;
  const int ldb = transB ? k : n;
  const size_t work = static_cast<size_t>(m) * n * k;
  const size_t bands = work >= kMinParallelWork ? (static_cast<size_t>(n) + 63) / 64 : 1;
  // Columns [j0, j1) of C need columns [j0, j1) of op(B): rows of B when it is transposed.
  parallelUnits(static_cast<size_t>(n), bands, 16, [&](size_t j0, size_t j1) {
    const float* bj = transB ? b + j0 * k : b + j0;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m,
                static_cast<int>(j1 - j0), k, alpha, a, lda, bj, ldb, beta, c + j0, n);
  });
}

void initBlas() { openblas_set_num_threads(1); }

const char* blasName() { return "openblas"; }
int blasThreads() { return poolThreads(); }

#else

void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  gemmPortable(transA, transB, m, n, k, alpha, a, b, beta, c);
}

void initBlas() {}
const char* blasName() { return "portable"; }
int blasThreads() { return poolThreads(); }

#endif

}  // namespace vaekit
