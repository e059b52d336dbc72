// Matrix products: C[m,n] = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
// beta == 0 overwrites C (NaN or garbage in C does not survive), as in BLAS.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace vaekit {

// The bundled cache-blocked kernel over the pool; always compiled, so tests can check it next to
// OpenBLAS.
void gemmPortable(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                  const float* b, float beta, float* c);

// OpenBLAS' cblas_sgemm when the addon was built with it, else gemmPortable.
void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c);

// Sets OpenBLAS' thread count to the machine's cores (no-op for the portable build).
void initBlas();
const char* blasName();  // "openblas" or "portable"
int blasThreads();

// Rows [begin, end) of A^T where A is stored [k, m] (columns of A's storage), as a row-major
// [end - begin, k] copy in this thread's buffer; 32 x 32 blocks keep both sides in cache. For the
// bands of a transposed A that a kernel takes dense only (oneDNN's bf16 brgemm, the bundled kernel).
template <typename T>
const T* transposedRows(const T* a, int m, int k, size_t begin, size_t end) {
  static thread_local std::vector<T> band;
  const size_t rows = end - begin;
  const size_t cols = static_cast<size_t>(k);
  if (band.size() < rows * cols) band.resize(rows * cols);
  constexpr size_t B = 32;
  for (size_t p0 = 0; p0 < cols; p0 += B) {
    const size_t p1 = std::min(cols, p0 + B);
    for (size_t i0 = 0; i0 < rows; i0 += B) {
      const size_t i1 = std::min(rows, i0 + B);
      for (size_t p = p0; p < p1; p++) {
        const T* from = a + p * static_cast<size_t>(m) + begin;
        for (size_t i = i0; i < i1; i++) band[i * cols + p] = from[i];
      }
    }
  }
  return band.data();
}

}  // namespace vaekit
