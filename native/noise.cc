// Gaussian input noise, out = clip(clean + factor * N(0, 1), 0, 1), and dynamic binarization,
// out = (u < clean) with u uniform in [0, 1): each row from its own generator seeded with
// rowSeeds[r]. The generator is the js Random's algorithm step for step (splitmix-style seeding
// through murmur3's finalizer, xoshiro128**, a 128-layer ziggurat), so both backends draw the same
// numbers; rows are split across the cores.
#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "args.h"
#include "bindings.h"
#include "parallel.h"

namespace vaekit {
namespace {

constexpr int kLayers = 128;
constexpr double kR = 3.442619855899;
constexpr double kArea = 9.91256303526217e-3;
constexpr double kPositionScale = 16777216.0;  // 2^24

struct Ziggurat {
  double limit[kLayers];
  double width[kLayers];
  double density[kLayers];

  Ziggurat() {
    double edge = kR;
    double previous = edge;
    const double q = kArea / std::exp(-0.5 * edge * edge);
    limit[0] = (edge / q) * kPositionScale;
    limit[1] = 0;
    width[0] = q / kPositionScale;
    width[kLayers - 1] = edge / kPositionScale;
    density[0] = 1;
    density[kLayers - 1] = std::exp(-0.5 * edge * edge);
    for (int i = kLayers - 2; i >= 1; i--) {
      edge = std::sqrt(-2 * std::log(kArea / edge + std::exp(-0.5 * edge * edge)));
      limit[i + 1] = (edge / previous) * kPositionScale;
      previous = edge;
      density[i] = std::exp(-0.5 * edge * edge);
      width[i] = edge / kPositionScale;
    }
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat table;
  return table;
}

inline uint32_t mix32(uint32_t x) {
  x = (x ^ (x >> 16)) * 0x85ebca6bu;
  x = (x ^ (x >> 13)) * 0xc2b2ae35u;
  return x ^ (x >> 16);
}

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

class Xoshiro128 {
 public:
  explicit Xoshiro128(uint32_t seed) {
    uint32_t x = seed;
    for (uint32_t& word : s_) {
      x += 0x9e3779b9u;
      word = mix32(x);
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }

  uint32_t next() {
    const uint32_t result = rotl(s_[1] * 5, 7) * 9;
    const uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }

  double uniform() { return next() / 4294967296.0; }

  double normal(const Ziggurat& z) {
    for (;;) {
      const uint32_t word = next();
      const int layer = static_cast<int>(word & (kLayers - 1));
      const int32_t position = static_cast<int32_t>(word) >> 7;
      if (std::fabs(static_cast<double>(position)) < z.limit[layer]) return position * z.width[layer];
      const double x = position * z.width[layer];
      if (layer == 0) {
        double tx;
        double ty;
        do {
          tx = -std::log(1 - uniform()) / kR;
          ty = -std::log(1 - uniform());
        } while (ty + ty < tx * tx);
        return position > 0 ? kR + tx : -kR - tx;
      }
      const double low = z.density[layer];
      const double high = z.density[layer - 1];
      if (low + uniform() * (high - low) < std::exp(-0.5 * x * x)) return x;
    }
  }

 private:
  uint32_t s_[4];
};

// clip to [0, 1] without a branch: on MNIST about half the noisy pixels clip to 0, so a branch
// mispredicts at random (GCC compiles std::min/std::max on doubles to branches; it cost 2/3 of
// this kernel's time). The SSE2 min/max instructions are branch-free.
inline double clipUnit(double v) {
#if defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_min_sd(_mm_max_sd(_mm_set_sd(v), _mm_setzero_pd()), _mm_set_sd(1.0)));
#else
  return std::min(1.0, std::max(0.0, v));
#endif
}

// body(rng, o) for the row starting at element o, with that row's generator; rows split across the cores.
template <typename Body>
void forEachSeededRow(size_t rows, size_t cols, const uint32_t* seeds, Body&& body) {
  parallelFor(rows * cols, 1 << 14, cols, [&](size_t begin, size_t end) {
    for (size_t o = begin; o < end; o += cols) {
      Xoshiro128 rng(seeds[o / cols]);
      body(rng, o);
    }
  });
}

void gaussianNoise(const float* clean, float* out, size_t rows, size_t cols, const uint32_t* seeds,
                   double factor) {
  const Ziggurat& z = ziggurat();
  forEachSeededRow(rows, cols, seeds, [&](Xoshiro128& rng, size_t o) {
    for (size_t j = 0; j < cols; j++) {
      out[o + j] = static_cast<float>(clipUnit(clean[o + j] + factor * rng.normal(z)));
    }
  });
}

// The comparison is in double (the float pixel widened), as the js backend's is.
void binarize(const float* clean, float* out, size_t rows, size_t cols, const uint32_t* seeds) {
  forEachSeededRow(rows, cols, seeds, [&](Xoshiro128& rng, size_t o) {
    for (size_t j = 0; j < cols; j++) out[o + j] = rng.uniform() < clean[o + j] ? 1.0f : 0.0f;
  });
}

// Both kernels' first arguments: (clean, out, rows, cols, rowSeeds).
struct SeededRows {
  explicit SeededRows(Args& args)
      : rows(args.size(2, "rows")),
        cols(args.size(3, "cols")),
        clean(args.floats(0, "clean", rows * cols)),
        out(args.floats(1, "out", rows * cols)),
        seeds(args.uint32s(4, "rowSeeds", rows)) {}
  const uint64_t rows;
  const uint64_t cols;
  const float* const clean;
  float* const out;
  const uint32_t* const seeds;
};

}  // namespace

napi_value GaussianNoise(napi_env env, napi_callback_info info) {
  Args args(env, info, "gaussianNoise");
  const SeededRows a(args);
  const double factor = args.number(5, "factor");
  if (!args.ok()) return nullptr;
  gaussianNoise(a.clean, a.out, a.rows, a.cols, a.seeds, factor);
  return undefinedValue(env);
}

napi_value Binarize(napi_env env, napi_callback_info info) {
  Args args(env, info, "binarize");
  const SeededRows a(args);
  if (!args.ok()) return nullptr;
  binarize(a.clean, a.out, a.rows, a.cols, a.seeds);
  return undefinedValue(env);
}

}  // namespace vaekit
