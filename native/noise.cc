// Gaussian input noise, out = clip(clean + factor * N(0, 1), 0, 1), and dynamic binarization,
// out = (u < clean) with u uniform in [0, 1): each row from its own generator seeded with
// rowSeeds[r]. The generator is the js Random's algorithm step for step (splitmix-style seeding
// through murmur3's finalizer, xoshiro128**, a 128-layer ziggurat), so both backends draw the same
// numbers; rows are split across the cores.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "simd.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(VAEKIT_SIMD_WIDTHS)
#include <immintrin.h>
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

// One xoshiro128** step on the state (a, b, c, d): returns the next 32-bit word.
inline uint32_t xoshiroNext(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
  const uint32_t result = rotl(b * 5, 7) * 9;
  const uint32_t t = b << 9;
  c ^= a;
  d ^= b;
  b ^= c;
  a ^= d;
  c ^= t;
  d = rotl(d, 11);
  return result;
}

// The ziggurat's fast path for one 32-bit word: *value = position x the layer's width, and true
// when the draw is accepted as it is (inside the layer's box).
inline bool fastNormal(const Ziggurat& z, uint32_t word, double* value) {
  const int layer = static_cast<int>(word & (kLayers - 1));
  const int32_t position = static_cast<int32_t>(word) >> 7;
  *value = position * z.width[layer];
  return std::fabs(static_cast<double>(position)) < z.limit[layer];
}

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

  uint32_t next() { return xoshiroNext(s_[0], s_[1], s_[2], s_[3]); }

  // The state words, to move a generator into and out of the lanes below.
  uint32_t* state() { return s_; }

  double uniform() { return next() / 4294967296.0; }

  // The ziggurat's fast path inline (about 99% of draws); the rest, which draws more numbers from
  // this generator, out of line so that the hot loops stay small.
  double normal(const Ziggurat& z) {
    const uint32_t word = next();
    double value;
    return fastNormal(z, word, &value) ? value : normalTail(z, word);
  }

  // Finishes a draw whose first word fell outside the fast path, drawing more from this generator.
  __attribute__((noinline)) double normalTail(const Ziggurat& z, uint32_t word) {
    for (;;) {
      const int layer = static_cast<int>(word & (kLayers - 1));
      const int32_t position = static_cast<int32_t>(word) >> 7;
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
      word = next();
      double value;
      if (fastNormal(z, word, &value)) return value;
    }
  }

 private:
  uint32_t s_[4];
};

// clip to [0, 1] without a branch: on MNIST about half the noisy pixels clip to 0, so a branch
// mispredicts at random (GCC compiles std::min/std::max on doubles, and the same written as
// conditionals, to branches; they cost 2/3 of this kernel's time). The SSE2 min/max instructions
// are branch-free.
inline double clipUnit(double v) {
#if defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_min_sd(_mm_max_sd(_mm_set_sd(v), _mm_setzero_pd()), _mm_set_sd(1.0)));
#else
  return std::min(1.0, std::max(0.0, v));
#endif
}

// The rows are split across the cores. Each core draws kLanes rows side by side, one column at a
// time, with the lanes' generator states laid out so that one vector instruction steps all of
// them (xoshiro's multiplies, shifts and xors are the same for every lane). The ziggurat's fast
// path is taken for all lanes at once; a lane that falls outside it finishes that draw alone, from
// its own generator, before the next column. So each row's numbers are those of Random(seed), in
// order, as in the js backend. Rows past the last whole group of lanes are drawn one at a time.
constexpr size_t kLanes = 16;  // rows side by side: one AVX-512 vector of 32-bit words
constexpr size_t kBlock = 64;  // columns drawn before they are written out, row by row

struct Lanes {
  uint32_t s[4][kLanes];

  Lanes(const uint32_t* seeds) {
    for (size_t l = 0; l < kLanes; l++) {
      Xoshiro128 g(seeds[l]);
      for (int w = 0; w < 4; w++) s[w][l] = g.state()[w];
    }
  }

  // words[l] = lane l's next word.
  void next(uint32_t* words) {
    for (size_t l = 0; l < kLanes; l++) words[l] = xoshiroNext(s[0][l], s[1][l], s[2][l], s[3][l]);
  }

  // Lane l's generator, to draw from alone; put it back with store.
  Xoshiro128 take(size_t l) const {
    Xoshiro128 g(0);
    for (int w = 0; w < 4; w++) g.state()[w] = s[w][l];
    return g;
  }
  void store(size_t l, Xoshiro128& g) {
    for (int w = 0; w < 4; w++) s[w][l] = g.state()[w];
  }

  // v[l] for each lane l in the bit set `outside`, whose draw words[l] fell outside the fast path:
  // finished alone from that lane's generator.
  void finish(const Ziggurat& z, const uint32_t* words, uint32_t outside, double* v) {
    while (outside != 0) {
      const size_t l = static_cast<size_t>(__builtin_ctz(outside));
      outside &= outside - 1;
      Xoshiro128 g = take(l);
      v[l] = g.normalTail(z, words[l]);
      store(l, g);
    }
  }
};

// values[j * kLanes + l] = the next standard normal of lane l, for j < count.
VAEKIT_SIMD_CLONES
void normalLanes(Lanes& lanes, const Ziggurat& z, double* values, size_t count) {
  uint32_t words[kLanes];
  for (size_t j = 0; j < count; j++) {
    double* v = values + j * kLanes;
    lanes.next(words);
    uint32_t outside = 0;  // bit l: lane l's draw fell outside the fast path
    for (size_t l = 0; l < kLanes; l++) outside |= static_cast<uint32_t>(!fastNormal(z, words[l], &v[l])) << l;
    lanes.finish(z, words, outside, v);
  }
}

// words[j * kLanes + l] = lane l's next word, for j < count.
VAEKIT_SIMD_CLONES
void wordLanes(Lanes& lanes, uint32_t* words, size_t count) {
  for (size_t j = 0; j < count; j++) lanes.next(words + j * kLanes);
}

// Draws every row: each group of kLanes whole rows block by block, draw(lanes, buffer, count)
// filling buffer[j * kLanes + l] for the block's count columns and write(first element of the
// block in the group's first row, count, buffer) using them; each row left over alone, row(its
// generator, its first element).
template <typename T, typename Draw, typename Write, typename Row>
void drawRows(size_t rows, size_t cols, const uint32_t* seeds, Draw&& draw, Write&& write, Row&& row) {
  parallelFor(rows * cols, 1 << 14, kLanes * cols, [&](size_t begin, size_t end) {
    size_t o = begin;
    for (; o + kLanes * cols <= end; o += kLanes * cols) {
      Lanes lanes(seeds + o / cols);
      T buffer[kBlock * kLanes];
      for (size_t j0 = 0; j0 < cols; j0 += kBlock) {
        const size_t count = std::min(kBlock, cols - j0);
        draw(lanes, buffer, count);
        write(o + j0, count, buffer);
      }
    }
    for (; o < end; o += cols) {
      Xoshiro128 rng(seeds[o / cols]);
      row(rng, o);
    }
  });
}

inline float noisy(float clean, double factor, double normal) {
  return static_cast<float>(clipUnit(clean + factor * normal));
}

// The rows of a group, columns [0, count) from element o: out = noisy(clean, values of the lane).
// Not cloned: in the FMA clones the compiler would fuse clean + factor * normal, and the js
// backend rounds the product first.
void writeNoisy(const float* clean, float* out, size_t cols, size_t count, const double* values, double factor) {
  for (size_t l = 0; l < kLanes; l++) {
    for (size_t j = 0; j < count; j++) out[l * cols + j] = noisy(clean[l * cols + j], factor, values[j * kLanes + l]);
  }
}

#if defined(VAEKIT_SIMD_WIDTHS)
// normalLanes and writeNoisy in AVX-512 intrinsics, for CPUs with 8-double registers (simd.h). The
// compiler kept the ziggurat's table lookups scalar; here they are gathers, 16 lanes at a time.
// The arithmetic is the scalar code's, operation for operation (products rounded before sums:
// the _round_ forms, which the compiler does not fuse into FMAs), so the numbers are the same.

__attribute__((target("avx512f"))) inline __m512i xoshiroNext16(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  const __m512i result = _mm512_mullo_epi32(_mm512_rol_epi32(_mm512_mullo_epi32(b, _mm512_set1_epi32(5)), 7), _mm512_set1_epi32(9));
  const __m512i t = _mm512_slli_epi32(b, 9);
  c = _mm512_xor_si512(c, a);
  d = _mm512_xor_si512(d, b);
  b = _mm512_xor_si512(b, c);
  a = _mm512_xor_si512(a, d);
  c = _mm512_xor_si512(c, t);
  d = _mm512_rol_epi32(d, 11);
  return result;
}

static_assert(kLanes == 16, "one __m512i of lanes");

__attribute__((target("avx512f"))) void normalLanes512(Lanes& lanes, const Ziggurat& z, double* values, size_t count) {
  __m512i a = _mm512_loadu_si512(lanes.s[0]), b = _mm512_loadu_si512(lanes.s[1]);
  __m512i c = _mm512_loadu_si512(lanes.s[2]), d = _mm512_loadu_si512(lanes.s[3]);
  const __m512i layerMask = _mm512_set1_epi32(kLayers - 1);
  for (size_t j = 0; j < count; j++) {
    double* v = values + j * kLanes;
    const __m512i words = xoshiroNext16(a, b, c, d);
    const __m512i layer = _mm512_and_si512(words, layerMask);
    const __m512i position = _mm512_srai_epi32(words, 7);
    uint32_t inside = 0;
    for (int half = 0; half < 2; half++) {
      const __m256i layerHalf = _mm512_extracti64x4_epi64(layer, half);
      const __m512d x = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(position, half));
      const __m512d width = _mm512_i32gather_pd(layerHalf, z.width, 8);
      const __m512d limit = _mm512_i32gather_pd(layerHalf, z.limit, 8);
      _mm512_storeu_pd(v + 8 * half, _mm512_mul_round_pd(x, width, _MM_FROUND_CUR_DIRECTION));
      inside |= static_cast<uint32_t>(_mm512_cmp_pd_mask(_mm512_abs_pd(x), limit, _CMP_LT_OQ)) << (8 * half);
    }
    const uint32_t outside = ~inside & 0xffffu;
    if (outside == 0) continue;
    alignas(64) uint32_t w[kLanes];
    _mm512_store_si512(w, words);
    _mm512_storeu_si512(lanes.s[0], a);
    _mm512_storeu_si512(lanes.s[1], b);
    _mm512_storeu_si512(lanes.s[2], c);
    _mm512_storeu_si512(lanes.s[3], d);
    lanes.finish(z, w, outside, v);
    a = _mm512_loadu_si512(lanes.s[0]);
    b = _mm512_loadu_si512(lanes.s[1]);
    c = _mm512_loadu_si512(lanes.s[2]);
    d = _mm512_loadu_si512(lanes.s[3]);
  }
  _mm512_storeu_si512(lanes.s[0], a);
  _mm512_storeu_si512(lanes.s[1], b);
  _mm512_storeu_si512(lanes.s[2], c);
  _mm512_storeu_si512(lanes.s[3], d);
}

// 8 columns of a lane at a time: values[j * kLanes + l] gathered, clean widened, clip(clean +
// factor * normal) in double, rounded to float; the last count % 8 columns as the scalar code.
__attribute__((target("avx512f"))) void writeNoisy512(const float* clean, float* out, size_t cols, size_t count,
                                                    const double* values, double factor) {
  const __m512i stride = _mm512_setr_epi64(0, 16, 32, 48, 64, 80, 96, 112);
  const __m512d f = _mm512_set1_pd(factor), zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const size_t whole = count / 8 * 8;
  for (size_t l = 0; l < kLanes; l++) {
    const float* in = clean + l * cols;
    float* to = out + l * cols;
    for (size_t j = 0; j < whole; j += 8) {
      const __m512d normal = _mm512_i64gather_pd(stride, values + j * kLanes + l, 8);
      const __m512d x = _mm512_cvtps_pd(_mm256_loadu_ps(in + j));
      const __m512d sum = _mm512_add_round_pd(x, _mm512_mul_round_pd(f, normal, _MM_FROUND_CUR_DIRECTION), _MM_FROUND_CUR_DIRECTION);
      _mm256_storeu_ps(to + j, _mm512_cvtpd_ps(_mm512_min_pd(_mm512_max_pd(sum, zero), one)));
    }
    for (size_t j = whole; j < count; j++) to[j] = noisy(in[j], factor, values[j * kLanes + l]);
  }
}
#endif

void gaussianNoise(const float* clean, float* out, size_t rows, size_t cols, const uint32_t* seeds,
                   double factor) {
  const Ziggurat& z = ziggurat();
  drawRows<double>(
      rows, cols, seeds,
      [&](Lanes& lanes, double* values, size_t count) {
#if defined(VAEKIT_SIMD_WIDTHS)
        if (simdDoubles() == 8) return normalLanes512(lanes, z, values, count);
#endif
        normalLanes(lanes, z, values, count);
      },
      [&](size_t o, size_t count, const double* values) {
#if defined(VAEKIT_SIMD_WIDTHS)
        if (simdDoubles() == 8) return writeNoisy512(clean + o, out + o, cols, count, values, factor);
#endif
        writeNoisy(clean + o, out + o, cols, count, values, factor);
      },
      [&](Xoshiro128& rng, size_t o) {
        for (size_t j = 0; j < cols; j++) out[o + j] = noisy(clean[o + j], factor, rng.normal(z));
      });
}

// The comparison is in double (the float pixel widened), as the js backend's is.
inline float bit(uint32_t word, float clean) { return word / 4294967296.0 < clean ? 1.0f : 0.0f; }

VAEKIT_SIMD_CLONES
void writeBits(const float* clean, float* out, size_t cols, size_t count, const uint32_t* words) {
  for (size_t l = 0; l < kLanes; l++) {
    for (size_t j = 0; j < count; j++) out[l * cols + j] = bit(words[j * kLanes + l], clean[l * cols + j]);
  }
}

void binarize(const float* clean, float* out, size_t rows, size_t cols, const uint32_t* seeds) {
  drawRows<uint32_t>(
      rows, cols, seeds, [&](Lanes& lanes, uint32_t* words, size_t count) { wordLanes(lanes, words, count); },
      [&](size_t o, size_t count, const uint32_t* words) { writeBits(clean + o, out + o, cols, count, words); },
      [&](Xoshiro128& rng, size_t o) {
        for (size_t j = 0; j < cols; j++) out[o + j] = bit(rng.next(), clean[o + j]);
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
