// Convolution patches for the im2col-based convolution layers: im2col copies the kernel window at
// each output position of channels-last images into one row of a matrix (zeros where the window
// hangs over the padding), and col2im, its adjoint, adds such rows back at the image positions
// they came from. The window is kernelH x kernelW, moved by strideH down and strideW across, with
// padH rows and padW columns of zeros around each image (a Conv1d's is 1 x k over a 1-row image).
// For a fixed image row iy, a window row (kx = 0..kernelW-1, all channels) is
// contiguous both in the image and in the patch row, so each is one copy (or one add loop) clipped
// at the image's left and right edges. Images are split across the cores; each image's output
// region is its own, so the threads never write the same element.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "args.h"
#include "bindings.h"
#include "dnnl_gemm.h"
#include "parallel.h"

namespace vaekit {
namespace {

struct Geometry {
  size_t height;
  size_t width;
  size_t channels;
  size_t kernelH;
  size_t kernelW;
  size_t strideH;
  size_t strideW;
  int64_t padH;
  int64_t padW;
  size_t outH;
  size_t outW;
  size_t imageSize;      // height * width * channels
  size_t segment;        // kernelW * channels: one window row
  size_t colsPerImage;   // outH * outW * kernelH * segment
};

// The kx for which ix0 + kx lies in [0, width): [*lo, *hi), empty when *lo >= *hi.
inline void insideRange(int64_t ix0, const Geometry& g, size_t* lo, size_t* hi) {
  const int64_t k = static_cast<int64_t>(g.kernelW);
  const int64_t first = ix0 < 0 ? -ix0 : 0;
  const int64_t last = std::min(k, static_cast<int64_t>(g.width) - ix0);
  *lo = static_cast<size_t>(std::min(first, k));
  *hi = last > first ? static_cast<size_t>(last) : *lo;
}

// A window row's values into the patch row: copied for float patches, rounded for bf16 ones.
inline void putRow(const float* from, float* to, size_t n) { std::memcpy(to, from, n * sizeof(float)); }
inline void putRow(const float* from, uint16_t* to, size_t n) { toBf16(from, to, n); }

template <typename Out>
void im2colImages(const float* x, const Geometry& g, Out* cols, size_t begin, size_t end) {
  const size_t c = g.channels;
  for (size_t r = begin; r < end; r++) {
    const float* image = x + r * g.imageSize;
    Out* out = cols + r * g.colsPerImage;
    for (size_t oy = 0; oy < g.outH; oy++) {
      const int64_t iy0 = static_cast<int64_t>(oy * g.strideH) - g.padH;
      for (size_t ox = 0; ox < g.outW; ox++) {
        const int64_t ix0 = static_cast<int64_t>(ox * g.strideW) - g.padW;
        size_t lo = 0;
        size_t hi = 0;
        insideRange(ix0, g, &lo, &hi);
        for (size_t ky = 0; ky < g.kernelH; ky++, out += g.segment) {
          const int64_t iy = iy0 + static_cast<int64_t>(ky);
          if (iy < 0 || iy >= static_cast<int64_t>(g.height) || lo >= hi) {
            std::fill(out, out + g.segment, Out{0});  // +0 in float and in bf16
            continue;
          }
          const float* from = image + (static_cast<size_t>(iy) * g.width + static_cast<size_t>(ix0 + static_cast<int64_t>(lo))) * c;
          if (lo > 0) std::fill(out, out + lo * c, Out{0});
          putRow(from, out + lo * c, (hi - lo) * c);
          if (hi < g.kernelW) std::fill(out + hi * c, out + g.segment, Out{0});
        }
      }
    }
  }
}

// Adds in the order image, oy, ox, ky, kx, c, as the js backend does, so the sums are bit-equal.
void col2imImages(const float* cols, const Geometry& g, float* x, size_t begin, size_t end) {
  const size_t c = g.channels;
  for (size_t r = begin; r < end; r++) {
    float* image = x + r * g.imageSize;
    std::fill(image, image + g.imageSize, 0.0f);
    const float* in = cols + r * g.colsPerImage;
    for (size_t oy = 0; oy < g.outH; oy++) {
      const int64_t iy0 = static_cast<int64_t>(oy * g.strideH) - g.padH;
      for (size_t ox = 0; ox < g.outW; ox++) {
        const int64_t ix0 = static_cast<int64_t>(ox * g.strideW) - g.padW;
        size_t lo = 0;
        size_t hi = 0;
        insideRange(ix0, g, &lo, &hi);
        for (size_t ky = 0; ky < g.kernelH; ky++, in += g.segment) {
          const int64_t iy = iy0 + static_cast<int64_t>(ky);
          if (iy < 0 || iy >= static_cast<int64_t>(g.height) || lo >= hi) continue;
          float* to = image + (static_cast<size_t>(iy) * g.width + static_cast<size_t>(ix0 + static_cast<int64_t>(lo))) * c;
          const float* from = in + lo * c;
          const size_t n = (hi - lo) * c;
          for (size_t i = 0; i < n; i++) to[i] += from[i];
        }
      }
    }
  }
}

// a * b, or false when the product does not fit in 64 bits.
bool multiply(uint64_t a, uint64_t b, uint64_t* product) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *product = a * b;
  return true;
}

// Reads the geometry (arguments 1..12, shared by both kernels) and the element counts the two
// arrays need; false (with a RangeError pending) when a size is bad or the counts overflow.
bool readGeometry(Args& args, uint64_t* rows, Geometry* g, uint64_t* imageNeed, uint64_t* colsNeed) {
  *rows = args.size(1, "rows");
  const uint64_t height = args.size(2, "height");
  const uint64_t width = args.size(3, "width");
  const uint64_t channels = args.size(4, "channels");
  const uint64_t kernelH = args.size(5, "kernelH");
  const uint64_t kernelW = args.size(6, "kernelW");
  const uint64_t strideH = args.size(7, "strideH");
  const uint64_t strideW = args.size(8, "strideW");
  const uint64_t padH = args.size(9, "padH");
  const uint64_t padW = args.size(10, "padW");
  const uint64_t outH = args.size(11, "outH");
  const uint64_t outW = args.size(12, "outW");
  if (!args.ok()) return false;
  uint64_t imageSize = 0, segment = 0, window = 0, positions = 0, perImage = 0;
  const bool fits = multiply(height, width, &imageSize) && multiply(imageSize, channels, &imageSize) &&
                    multiply(kernelW, channels, &segment) && multiply(segment, kernelH, &window) &&
                    multiply(outH, outW, &positions) && multiply(positions, window, &perImage) &&
                    multiply(*rows, imageSize, imageNeed) && multiply(*rows, perImage, colsNeed);
  if (!fits) {
    args.fail("the sizes given need more than 2^64 elements");
    return false;
  }
  *g = Geometry{height, width, channels, kernelH, kernelW, strideH, strideW,
                static_cast<int64_t>(padH), static_cast<int64_t>(padW),
                outH, outW, imageSize, segment, perImage};
  return true;
}

// Images are split across the cores once each thread gets this many elements of work.
constexpr uint64_t kMinParallel = 1 << 15;

size_t minImagesPerThread(const Geometry& g) {
  const uint64_t perImage = std::max<uint64_t>(1, std::max(g.imageSize, g.colsPerImage));
  return static_cast<size_t>(std::max<uint64_t>(1, (kMinParallel + perImage - 1) / perImage));
}

float* patchesArg(Args& args, uint64_t need, float*) { return args.floats(13, "cols", need); }
uint16_t* patchesArg(Args& args, uint64_t need, uint16_t*) { return args.uint16s(13, "cols", need); }

// im2col's binding for patches of type Out (float, or bf16 bits).
template <typename Out>
napi_value callIm2col(napi_env env, napi_callback_info info, const char* name) {
  Args args(env, info, name);
  uint64_t rows = 0, imageNeed = 0, colsNeed = 0;
  Geometry g{};
  if (!readGeometry(args, &rows, &g, &imageNeed, &colsNeed)) return nullptr;
  const float* x = args.floats(0, "x", imageNeed);
  Out* cols = patchesArg(args, colsNeed, static_cast<Out*>(nullptr));
  if (!args.ok()) return nullptr;
  parallelFor(rows, minImagesPerThread(g), 1, [&](size_t b, size_t e) { im2colImages(x, g, cols, b, e); });
  return undefinedValue(env);
}

}  // namespace

napi_value Im2col(napi_env env, napi_callback_info info) {
  return callIm2col<float>(env, info, "im2col");
}

// im2col with the patches rounded to bf16 (for the bf16 products), without an fp32 copy between.
napi_value Im2colBf16(napi_env env, napi_callback_info info) {
  return callIm2col<uint16_t>(env, info, "im2colBf16");
}

napi_value Col2im(napi_env env, napi_callback_info info) {
  Args args(env, info, "col2im");
  uint64_t rows = 0, imageNeed = 0, colsNeed = 0;
  Geometry g{};
  if (!readGeometry(args, &rows, &g, &imageNeed, &colsNeed)) return nullptr;
  const float* cols = args.floats(0, "cols", colsNeed);
  float* x = args.floats(13, "x", imageNeed);
  if (!args.ok()) return nullptr;
  parallelFor(rows, minImagesPerThread(g), 1, [&](size_t b, size_t e) { col2imImages(cols, g, x, b, e); });
  return undefinedValue(env);
}

}  // namespace vaekit
