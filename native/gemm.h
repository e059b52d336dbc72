// Matrix products: C[m,n] = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
// beta == 0 overwrites C (NaN or garbage in C does not survive), as in BLAS.
#pragma once

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

}  // namespace vaekit
