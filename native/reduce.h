// Reductions (native/reduce.cc) that other kernels take in their own pass: column sums for the
// bias gradient (activation.cc's activationBiasBackward), the non-finite count for Adam's check.
#pragma once

#include <cstddef>

namespace vaekit {

// out[j] = sum over r of x[r, j], accumulated in double.
void sumRows(const float* x, size_t rows, size_t cols, float* out);

// Whether sumRows sums each column alone, over the rows in order, in one double: then any cut of
// the columns gives its bits. Not so for one column, nor for many rows of few columns (a conv
// layer's positions), which it sums in parts.
bool sumRowsColumnByColumn(size_t rows, size_t cols);

// acc[j] += sum over rows [r0, r1) of x[r, j0 + j] for j < width, in row order.
void sumRowsBlock(const float* x, size_t r0, size_t r1, size_t cols, size_t j0, size_t width, double* acc);

// How many of x[begin..end) are NaN or infinite.
size_t countNonFiniteRange(const float* x, size_t begin, size_t end);

}  // namespace vaekit
