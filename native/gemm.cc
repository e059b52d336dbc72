#include "gemm.h"
#include "parallel.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#ifdef VAEKIT_OPENBLAS
#include <cblas.h>
#endif

namespace vaekit {
namespace {

// Products with fewer multiply-adds than this run on one thread (waking the pool costs more).
constexpr size_t kMinParallelWork = size_t{1} << 19;

// Register tile (MR x NR accumulators) and cache blocks: a KC x NR sliver of B stays in L1, an
// MC x KC block of A in L2, a KC x NC panel of B in L3. MR = 4, NR = 8 keeps the accumulators in
// SSE registers with plain -O3 auto-vectorization.
constexpr int MR = 4;
constexpr int NR = 8;
constexpr int KC = 256;
constexpr int MC = 96;
constexpr int NC = 2048;

void scaleC(int m, int n, float beta, float* c) {
  const size_t size = static_cast<size_t>(m) * n;
  if (beta == 0.0f) {
    std::fill(c, c + size, 0.0f);
  } else if (beta != 1.0f) {
    for (size_t i = 0; i < size; i++) c[i] *= beta;
  }
}

// op(A)[ic.., pc..] as MR-row slivers, each kc x MR, times alpha; rows past mc are zero.
void packA(bool transA, int m, int k, float alpha, const float* a, int ic, int pc, int mc, int kc,
           float* out) {
  for (int is = 0; is < mc; is += MR) {
    float* sliver = out + static_cast<size_t>(is) * kc;
    for (int p = 0; p < kc; p++) {
      for (int i = 0; i < MR; i++) {
        const size_t row = ic + is + i;
        const size_t col = pc + p;
        float value = 0.0f;
        if (is + i < mc) value = alpha * (transA ? a[col * m + row] : a[row * k + col]);
        sliver[p * MR + i] = value;
      }
    }
  }
}

// op(B)[pc.., jc..] as NR-column slivers, each kc x NR; columns past nc are zero.
void packB(bool transB, int n, int k, const float* b, int pc, int jc, int kc, int nc, float* out) {
  for (int js = 0; js < nc; js += NR) {
    float* sliver = out + static_cast<size_t>(js) * kc;
    for (int p = 0; p < kc; p++) {
      for (int j = 0; j < NR; j++) {
        const size_t row = pc + p;
        const size_t col = jc + js + j;
        float value = 0.0f;
        if (js + j < nc) value = transB ? b[col * k + row] : b[row * n + col];
        sliver[p * NR + j] = value;
      }
    }
  }
}

// C[0..mr, 0..nr] += (A sliver) * (B sliver).
inline void microKernel(int kc, const float* __restrict a, const float* __restrict b, float* c,
                        int ldc, int mr, int nr) {
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; p++) {
    const float* ap = a + p * MR;
    const float* bp = b + p * NR;
    for (int i = 0; i < MR; i++) {
      const float ai = ap[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * bp[j];
    }
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) c[static_cast<size_t>(i) * ldc + j] += acc[i][j];
  } else {
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) c[static_cast<size_t>(i) * ldc + j] += acc[i][j];
  }
}

}  // namespace

void gemmPortable(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                  const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  scaleC(m, n, beta, c);
  if (k <= 0 || alpha == 0.0f) return;
  // Packing buffers grow once per thread and are reused by every later call.
  thread_local std::vector<float> packedA;
  thread_local std::vector<float> packedB;
  const size_t needA = static_cast<size_t>(MC + MR) * KC;
  const size_t needB = static_cast<size_t>(NC + NR) * KC;
  if (packedA.size() < needA) packedA.resize(needA);
  if (packedB.size() < needB) packedB.resize(needB);
  float* pa = packedA.data();
  float* pb = packedB.data();
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      packB(transB, n, k, b, pc, jc, kc, nc, pb);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        packA(transA, m, k, alpha, a, ic, pc, mc, kc, pa);
        for (int js = 0; js < nc; js += NR) {
          for (int is = 0; is < mc; is += MR) {
            float* tile = c + static_cast<size_t>(ic + is) * n + jc + js;
            microKernel(kc, pa + static_cast<size_t>(is) * kc, pb + static_cast<size_t>(js) * kc,
                        tile, n, std::min(MR, mc - is), std::min(NR, nc - js));
          }
        }
      }
    }
  }
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
int blasThreads() { return 1; }

#endif

}  // namespace vaekit
