// The learned mixture prior of src/vae/prior.ts, p(z) = sum_k pi_k N(z; m_k, diag(exp(s_k))) with
// pi = softmax(a): its log density with each row's responsibilities (forward), and the gradient of
// sum_r c_r (-log p(z_r)) (backward), side by side. The math is the js backend's (the reference):
// float64 throughout, a log-sum-exp per row, responsibilities below 1e-12 skipped in the backward
// pass. What differs: exp is fastmath.h's expDouble (within 1 ulp of Math.exp; 0 below double's
// normal range), the compiler fuses multiplies and adds, a few sums run in a different order, a
// row's responsibilities are exp(l - max) / sum rather than exp(l - log p), and the backward pass
// sums (z - m) per component and divides by the variance once. z [rows, L], means and logvars
// [K, L], logits [K] and the gradients are float32; log p [rows] and gamma [rows, K] float64.
//
// Both passes are register-blocked like a matrix product's kernel, in vectors of W doubles (the
// widest the CPU has: simd.h's runWidest): the forward pass keeps kRows rows x 2W components'
// quadratic forms in registers while it walks d, the backward pass one component's mean,
// precision and gradient sums for 2W dimensions while it walks the rows. (The plain loops,
// vectorized by the compiler, loaded and stored a partial sum at every multiply-add: 4x slower.)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "fastmath.h"
#include "parallel.h"
#include "simd.h"

namespace vaekit {
namespace {

// W doubles as one value. GCC and Clang keep a few of these in registers through a loop (an array
// of partial sums they keep in memory). Other compilers get a struct with the operators used here.
#if defined(__GNUC__)
template <size_t W>
struct Lanes {
  typedef double Vector __attribute__((vector_size(W * sizeof(double))));
};
#else
template <size_t W>
struct Lanes {
  struct Vector {
    double lane[W];
    double& operator[](size_t i) { return lane[i]; }
    double operator[](size_t i) const { return lane[i]; }
    friend Vector operator+(Vector a, const Vector& b) {
      for (size_t i = 0; i < W; i++) a.lane[i] += b.lane[i];
      return a;
    }
    friend Vector operator-(Vector a, const Vector& b) {
      for (size_t i = 0; i < W; i++) a.lane[i] -= b.lane[i];
      return a;
    }
    friend Vector operator*(Vector a, const Vector& b) {
      for (size_t i = 0; i < W; i++) a.lane[i] *= b.lane[i];
      return a;
    }
    friend Vector operator-(double x, Vector b) {
      for (size_t i = 0; i < W; i++) b.lane[i] = x - b.lane[i];
      return b;
    }
    friend Vector operator*(double x, Vector b) {
      for (size_t i = 0; i < W; i++) b.lane[i] *= x;
      return b;
    }
    Vector& operator+=(const Vector& b) { return *this = *this + b; }
  };
};
#endif
template <size_t W>
using Vec = typename Lanes<W>::Vector;

// By reference: a vector passed by value changes the ABI with the instruction set (GCC warns).
template <size_t W>
VAEKIT_ALWAYS_INLINE void load(Vec<W>& v, const double* p) {
  std::memcpy(&v, p, sizeof v);
}
template <size_t W>
VAEKIT_ALWAYS_INLINE void load(Vec<W>& v, const float* p) {
  for (size_t i = 0; i < W; i++) v[i] = p[i];
}
template <size_t W>
VAEKIT_ALWAYS_INLINE void store(double* p, const Vec<W>& v) {
  std::memcpy(p, &v, sizeof v);
}

// best = v where v > best, lane by lane (a NaN in v leaves best, as the js backend's `if (l > max)`).
template <size_t W>
VAEKIT_ALWAYS_INLINE void keepGreater(Vec<W>& best, const Vec<W>& v) {
#if defined(__GNUC__)
  best = v > best ? v : best;
#else
  for (size_t i = 0; i < W; i++) best[i] = v[i] > best[i] ? v[i] : best[i];
#endif
}

// The max and the sum of x[0..n): W lanes, then the lanes and the tail in a fixed order.
template <size_t W>
VAEKIT_ALWAYS_INLINE double maxOf(const double* x, size_t n) {
  Vec<W> lanes;
  for (size_t i = 0; i < W; i++) lanes[i] = -INFINITY;
  size_t k = 0;
  for (; k + W <= n; k += W) {
    Vec<W> v;
    load<W>(v, x + k);
    keepGreater<W>(lanes, v);
  }
  double best = -INFINITY;
  for (size_t i = 0; i < W; i++) best = lanes[i] > best ? lanes[i] : best;
  for (; k < n; k++) best = x[k] > best ? x[k] : best;
  return best;
}

template <size_t W>
VAEKIT_ALWAYS_INLINE double sumOf(const double* x, size_t n) {
  Vec<W> lanes = {};
  size_t k = 0;
  for (; k + W <= n; k += W) {
    Vec<W> v;
    load<W>(v, x + k);
    lanes += v;
  }
  double total = 0;
  for (size_t i = 0; i < W; i++) total += lanes[i];
  for (; k < n; k++) total += x[k];
  return total;
}

constexpr double kLog2Pi = 1.8378770664093454836;
// As the js backend's: a responsibility this small changes no gradient by a float32 ulp.
constexpr double kNegligibleResponsibility = 1e-12;
// The forward pass takes kRows rows at a time (with 2W components: 8 accumulators, of 32 AVX-512
// registers or 16 AVX2 ones). Tables are padded to kPad components or dimensions, a multiple of
// every 2W.
constexpr size_t kRows = 4;
constexpr size_t kPad = 16;
// rows x K x L below this: one thread (waking the pool would cost more than it saves).
constexpr size_t kMinParallelWork = 1 << 15;

size_t roundUp(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

double* sized(std::vector<double>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Work buffers, grown once per calling thread; the pool's workers read them while the call waits.
struct Tables {
  std::vector<double> mean, precision, meanT, precisionT, logPi, constant, z, dz, weights, partial;
  std::vector<uint32_t> active;
  std::vector<size_t> count;
  // The log-variances `precision` was computed from, and their shape.
  std::vector<float> precisionOf;
  size_t precisionK = 0;
  size_t precisionL = 0;
};

Tables& tables() {
  thread_local Tables t;
  return t;
}

// log pi = log softmax(a), stable (as the js backend's logSoftmax).
void logSoftmax(const float* a, size_t K, double* out) {
  double max = -INFINITY;
  for (size_t k = 0; k < K; k++) max = std::max(max, static_cast<double>(a[k]));
  double total = 0;
  for (size_t k = 0; k < K; k++) total += std::exp(a[k] - max);
  const double lse = max + std::log(total);
  for (size_t k = 0; k < K; k++) out[k] = a[k] - lse;
}

// exp(x[i]) in place (a loop of its own so that it vectorizes in each clone).
VAEKIT_SIMD_CLONES
void expInPlace(double* x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = expDouble(x[i]);
}

// The precisions exp(-s) as [K, Lp] (Lp = L rounded up to kPad; the padding is never read into a
// result). The backward pass follows the forward pass with the same parameters, so they are kept
// with the log-variances they came from and reused when those are the same bits (comparing K x L
// floats takes a few microseconds, the exps tens).
const double* precisions(const float* logvars, size_t K, size_t L) {
  Tables& t = tables();
  const size_t Lp = roundUp(L, kPad);
  double* precision = sized(t.precision, K * Lp);
  if (t.precisionK == K && t.precisionL == L &&
      std::memcmp(t.precisionOf.data(), logvars, K * L * sizeof(float)) == 0) {
    return precision;
  }
  for (size_t k = 0; k < K; k++) {
    for (size_t d = 0; d < Lp; d++) {
      precision[k * Lp + d] = d < L ? -static_cast<double>(logvars[k * L + d]) : 0.0;
    }
  }
  expInPlace(precision, K * Lp);
  t.precisionOf.assign(logvars, logvars + K * L);
  t.precisionK = K;
  t.precisionL = L;
  return precision;
}

// What a pass reads, made once per call on the calling thread (the pool's workers read it while
// the call waits): the means and precisions exp(-s) as tables whose rows are `stride` long, one
// value per component, and z widened. Each pass's maker says which layout.
struct Mixture {
  size_t latent, components, stride;
  const double* mean;
  const double* precision;
  const double* perComponent;
  const double* z;
};

// ---- forward -----------------------------------------------------------------------------------

// The forward pass's tables (Mixture): means and precisions as [L, Kp] (Kp = K rounded up to
// kPad, zero padding), so that a block of components is a row of vectors; per component, the
// constant log pi_k - 0.5 (L log 2 pi + sum_d s_kd); z widened.
VAEKIT_SIMD_CLONES
Mixture forwardTables(const float* z, size_t rows, size_t L, size_t K, const float* means,
                      const float* logvars, const float* logits) {
  Tables& t = tables();
  double* zd = sized(t.z, rows * L);
  for (size_t i = 0; i < rows * L; i++) zd[i] = z[i];
  const size_t Lp = roundUp(L, kPad);
  const size_t Kp = roundUp(K, kPad);
  const double* precisionKL = precisions(logvars, K, L);
  double* mean = sized(t.meanT, L * Kp);
  double* precision = sized(t.precisionT, L * Kp);
  double* constant = sized(t.constant, Kp);
  // Read along rows, write along columns: the lines written stay in L1 from one k to the next.
  for (size_t k = 0; k < K; k++) {
    for (size_t d = 0; d < L; d++) {
      mean[d * Kp + k] = means[k * L + d];
      precision[d * Kp + k] = precisionKL[k * Lp + d];
    }
  }
  for (size_t d = 0; d < L; d++) {
    std::fill(mean + d * Kp + K, mean + (d + 1) * Kp, 0.0);
    std::fill(precision + d * Kp + K, precision + (d + 1) * Kp, 0.0);
  }
  double* logPi = sized(t.logPi, K);
  logSoftmax(logits, K, logPi);
  for (size_t k = 0; k < K; k++) {
    // sum_d s_kd in four partial sums (one sum waits on each addition's latency).
    const float* s = logvars + k * L;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t d = 0;
    for (; d + 4 <= L; d += 4) {
      s0 += s[d];
      s1 += s[d + 1];
      s2 += s[d + 2];
      s3 += s[d + 3];
    }
    for (; d < L; d++) s0 += s[d];
    constant[k] = logPi[k] - 0.5 * (L * kLog2Pi + ((s0 + s1) + (s2 + s3)));
  }
  return {L, K, Kp, mean, precision, constant, zd};
}

// gamma[r, k] = l_rk = constant_k - 0.5 sum_d (z_rd - m_kd)^2 exp(-s_kd), then per row
// log p = max + log sum_k exp(l_rk - max) into out[r], and gamma[r, k] = exp(l_rk - max) / sum
// (times 1 / sum: a division per component cost a tenth of the pass).
struct LogDensityRows {
  template <size_t W>
  VAEKIT_ALWAYS_INLINE static void run(const Mixture* mixture, size_t begin, size_t end,
                                       double* out, double* gamma) {
    const Mixture& m = *mixture;
    const size_t L = m.latent;
    const size_t K = m.components;
    const size_t stride = m.stride;
    // Components outside, rows inside: a block of components' tables (16 KB at L = 64, W = 8)
    // stays in L1 while every row goes over it.
    for (size_t k0 = 0; k0 < K; k0 += 2 * W) {
      for (size_t r0 = begin; r0 < end; r0 += kRows) {
        const size_t n = std::min(kRows, end - r0);
        // A short last block repeats its last row (computed, not stored).
        const double* zr[kRows];
        for (size_t j = 0; j < kRows; j++) zr[j] = m.z + (r0 + std::min(j, n - 1)) * L;
        Vec<W> q[kRows][2] = {};
        for (size_t d = 0; d < L; d++) {
          Vec<W> mean[2];
          Vec<W> precision[2];
          for (size_t v = 0; v < 2; v++) {
            load<W>(mean[v], m.mean + d * stride + k0 + v * W);
            load<W>(precision[v], m.precision + d * stride + k0 + v * W);
          }
          for (size_t j = 0; j < kRows; j++) {
            const double zj = zr[j][d];
            for (size_t v = 0; v < 2; v++) {
              const Vec<W> diff = zj - mean[v];
              q[j][v] += diff * diff * precision[v];
            }
          }
        }
        for (size_t j = 0; j < n; j++) {
          double* g = gamma + (r0 + j) * K + k0;
          if (k0 + 2 * W <= K) {
            for (size_t v = 0; v < 2; v++) {
              Vec<W> constant;
              load<W>(constant, m.perComponent + k0 + v * W);
              store<W>(g + v * W, constant - 0.5 * q[j][v]);
            }
          } else {
            for (size_t k = 0; k < K - k0; k++) g[k] = m.perComponent[k0 + k] - 0.5 * q[j][k / W][k % W];
          }
        }
      }
    }
    for (size_t r = begin; r < end; r++) {
      double* g = gamma + r * K;
      const double max = maxOf<W>(g, K);
      for (size_t k = 0; k < K; k++) g[k] = expDouble(g[k] - max);
      const double total = sumOf<W>(g, K);
      out[r] = max + std::log(total);
      const double inverse = 1 / total;
      for (size_t k = 0; k < K; k++) g[k] *= inverse;
    }
  }
};

void mixtureLogDensity(const float* z, size_t rows, size_t L, size_t K, const float* means,
                       const float* logvars, const float* logits, double* out, double* gamma) {
  const Mixture m = forwardTables(z, rows, L, K, means, logvars, logits);
  const size_t minRows = kMinParallelWork / (2 * std::max<size_t>(1, K * L)) + 1;
  // Chunks of whole kRows blocks, so that only the last block can be short.
  parallelFor(rows, minRows, kRows, [&](size_t begin, size_t end) {
    runWidest<LogDensityRows>(&m, begin, end, out, gamma);
  });
}

// ---- backward ----------------------------------------------------------------------------------

// The backward pass's tables (Mixture): means and precisions as [K, Lp] (Lp = L rounded up to
// kPad, zero padding for the means and z), per component pi_k, z as [rows, Lp].
VAEKIT_SIMD_CLONES
Mixture backwardTables(const float* z, size_t rows, size_t L, size_t K, const float* means,
                       const float* logvars, const float* logits) {
  Tables& t = tables();
  const size_t Lp = roundUp(L, kPad);
  const double* precision = precisions(logvars, K, L);
  double* mean = sized(t.mean, K * Lp);
  double* zp = sized(t.z, rows * Lp);
  for (size_t k = 0; k < K; k++) {
    for (size_t d = 0; d < Lp; d++) mean[k * Lp + d] = d < L ? means[k * L + d] : 0.0;
  }
  for (size_t r = 0; r < rows; r++) {
    for (size_t d = 0; d < Lp; d++) zp[r * Lp + d] = d < L ? z[r * L + d] : 0.0;
  }
  double* pi = sized(t.logPi, K);
  logSoftmax(logits, K, pi);
  for (size_t k = 0; k < K; k++) pi[k] = std::exp(pi[k]);
  return {L, K, Lp, mean, precision, pi, zp};
}

// One slot's work for rows [begin, end) of the gradient of sum_r c_r (-log p(z_r)),
// c_r = scale (rowScale[r] or 1):
//   -d log p / d a_k  = pi_k - gamma_k
//   -d log p / d z    = sum_k gamma_k (z - m_k) / v_k
//   -d log p / d m_k  = -gamma_k (z - m_k) / v_k
//   -d log p / d s_k  = gamma_k 0.5 (1 - (z - m_k)^2 / v_k)
// With weights w = c_r gamma_rk and e = w (z - m_k): dz_r gets sum_k e / v_k here; the slot's sums
// `acc` get, per component, A = sum_r e and B = sum_r e (z - m_k) ([K, Lp] each), W = sum_r w and
// the logits' sum_r c_r (pi_k - gamma_k) ([K] each), from which reduceSlots makes
// dm = -A / v and ds = 0.5 (W - B / v): five operations per term where the js backend's form
// takes six. dzSum ([rows, Lp], this slot's rows), active ([K, n] row numbers), weights ([K, n])
// and count ([K]: how many of each component's rows are listed) are scratch.
struct BackwardSlot {
  const Mixture* mixture;
  const double* gamma;
  double scale;
  const float* rowScale;
  float* dz;
  double* dzSum;
  uint32_t* active;
  double* weights;
  size_t* count;
  double* acc;
};

struct BackwardRows {
  template <size_t W>
  VAEKIT_ALWAYS_INLINE static void run(const BackwardSlot* slot, size_t begin, size_t end) {
    const Mixture& m = *slot->mixture;
    const double* gamma = slot->gamma;
    const double scale = slot->scale;
    const float* rowScale = slot->rowScale;
    double* dzSum = slot->dzSum;
    const size_t L = m.latent;
    const size_t K = m.components;
    const size_t Lp = m.stride;
    const size_t n = end - begin;
    double* sumA = slot->acc;
    double* sumB = sumA + K * Lp;
    double* sumLogit = sumB + K * Lp;
    double* sumWeight = sumLogit + K;
    std::fill(sumLogit, sumLogit + 2 * K, 0.0);
    std::fill(dzSum + begin * Lp, dzSum + end * Lp, 0.0);
    for (size_t r = begin; r < end; r++) {
      const double c = rowScale == nullptr ? scale : scale * rowScale[r];
      if (c == 0) continue;
      const double* g = gamma + r * K;
      for (size_t k = 0; k < K; k++) sumLogit[k] += c * (m.perComponent[k] - g[k]);
    }
    // The rows each component counts for (c != 0; components this far from z, most of them once
    // the mixture is trained, add nothing measurable), listed without a branch, with their weights.
    for (size_t k = 0; k < K; k++) {
      uint32_t* rowsOf = slot->active + k * n;
      double* w = slot->weights + k * n;
      size_t listed = 0;
      for (size_t r = begin; r < end; r++) {
        const double c = rowScale == nullptr ? scale : scale * rowScale[r];
        const double g = gamma[r * K + k];
        rowsOf[listed] = static_cast<uint32_t>(r);
        w[listed] = c * g;
        listed += c != 0 && !(g < kNegligibleResponsibility);
      }
      slot->count[k] = listed;
      double total = 0;
      for (size_t i = 0; i < listed; i++) total += w[i];
      sumWeight[k] = total;
    }
    // 2W dimensions at a time outside, components inside: those columns of z and of dz's sums
    // (32 KB for 128 rows at W = 8) stay in L1 while every component goes over them. (Locals, not
    // fields: a store through memcpy may alias anything, so a field would be loaded at every step.)
    const double* zTable = m.z;
    for (size_t d0 = 0; d0 < Lp; d0 += 2 * W) {
      for (size_t k = 0; k < K; k++) {
        const uint32_t* rowsOf = slot->active + k * n;
        const double* w = slot->weights + k * n;
        const size_t listed = slot->count[k];
        Vec<W> mean[2];
        Vec<W> precision[2];
        Vec<W> a[2] = {};
        Vec<W> b[2] = {};
        for (size_t v = 0; v < 2; v++) {
          load<W>(mean[v], m.mean + k * Lp + d0 + v * W);
          load<W>(precision[v], m.precision + k * Lp + d0 + v * W);
        }
        for (size_t i = 0; i < listed; i++) {
          const double wi = w[i];
          const double* zr = zTable + rowsOf[i] * Lp + d0;
          double* dzr = dzSum + rowsOf[i] * Lp + d0;
          for (size_t v = 0; v < 2; v++) {
            Vec<W> zv;
            Vec<W> dzv;
            load<W>(zv, zr + v * W);
            load<W>(dzv, dzr + v * W);
            const Vec<W> diff = zv - mean[v];
            const Vec<W> e = wi * diff;
            dzv += e * precision[v];
            store<W>(dzr + v * W, dzv);
            a[v] += e;
            b[v] += e * diff;
          }
        }
        for (size_t v = 0; v < 2; v++) {
          store<W>(sumA + k * Lp + d0 + v * W, a[v]);
          store<W>(sumB + k * Lp + d0 + v * W, b[v]);
        }
      }
    }
    float* dz = slot->dz;
    for (size_t r = begin; r < end; r++) {
      if ((rowScale == nullptr ? scale : scale * rowScale[r]) == 0) continue;  // dz untouched, as in js
      for (size_t d = 0; d < L; d++) dz[r * L + d] = static_cast<float>(dz[r * L + d] + dzSum[r * Lp + d]);
    }
  }
};

// The slots' sums added into the first, slot by slot in order, then the gradients: dm = -A / v,
// ds = 0.5 (W - B / v), da = the logits' sum.
VAEKIT_SIMD_CLONES
void reduceSlots(const Mixture& m, double* partial, size_t slots, float* dMeans, float* dLogvars,
                 float* dLogits) {
  const size_t L = m.latent;
  const size_t K = m.components;
  const size_t Lp = m.stride;
  const size_t stride = K * (2 * Lp + 2);
  for (size_t slot = 1; slot < slots; slot++) {
    const double* from = partial + slot * stride;
    for (size_t i = 0; i < stride; i++) partial[i] += from[i];
  }
  const double* sumLogit = partial + 2 * K * Lp;
  const double* sumWeight = sumLogit + K;
  for (size_t k = 0; k < K; k++) {
    const double* a = partial + k * Lp;
    const double* b = partial + K * Lp + k * Lp;
    const double* precision = m.precision + k * Lp;
    for (size_t d = 0; d < L; d++) {
      dMeans[k * L + d] = static_cast<float>(-a[d] * precision[d]);
      dLogvars[k * L + d] = static_cast<float>(0.5 * (sumWeight[k] - b[d] * precision[d]));
    }
    dLogits[k] = static_cast<float>(sumLogit[k]);
  }
}

void mixtureBackward(const float* z, size_t rows, size_t L, size_t K, const float* means,
                     const float* logvars, const float* logits, const double* gamma, double scale,
                     const float* rowScale, float* dz, float* dMeans, float* dLogvars, float* dLogits) {
  const Mixture m = backwardTables(z, rows, L, K, means, logvars, logits);
  Tables& t = tables();
  const size_t Lp = m.stride;
  // Slots of partial sums, the rows split evenly among them and the slots added in order; their
  // number follows from the sizes alone (at most 16), so the result never depends on the thread
  // count or on timing. (Small work: one slot, which also covers rows = 0, whose gradients are zeros.)
  const size_t slots = rows * K * L < kMinParallelWork ? 1 : std::min<size_t>(rows, 16);
  double* partial = sized(t.partial, slots * K * (2 * Lp + 2));
  double* dzSum = sized(t.dz, rows * Lp);
  double* weights = sized(t.weights, rows * K);
  if (t.active.size() < rows * K) t.active.resize(rows * K);
  if (t.count.size() < slots * K) t.count.resize(slots * K);
  parallelFor(slots, 1, 1, [&](size_t first, size_t last) {
    for (size_t slot = first; slot < last; slot++) {
      const size_t begin = rows * slot / slots;
      const BackwardSlot work{&m, gamma, scale, rowScale, dz, dzSum, t.active.data() + begin * K,
                              weights + begin * K, t.count.data() + slot * K,
                              partial + slot * K * (2 * Lp + 2)};
      runWidest<BackwardRows>(&work, begin, rows * (slot + 1) / slots);
    }
  });
  reduceSlots(m, partial, slots, dMeans, dLogvars, dLogits);
}

// Both kernels' first arguments: (z, rows, latent, components, means, logvars, logits).
struct MixtureArgs {
  explicit MixtureArgs(Args& args)
      : rows(args.size(1, "rows")),
        latent(args.size(2, "latent")),
        components(args.size(3, "components")),
        z(args.floats(0, "z", rows * latent)),
        means(args.floats(4, "means", components * latent)),
        logvars(args.floats(5, "logvars", components * latent)),
        logits(args.floats(6, "logits", components)) {}
  const uint64_t rows;
  const uint64_t latent;
  const uint64_t components;
  const float* const z;
  const float* const means;
  const float* const logvars;
  const float* const logits;
};

}  // namespace

napi_value MixtureLogDensity(napi_env env, napi_callback_info info) {
  Args args(env, info, "mixtureLogDensity");
  const MixtureArgs a(args);
  double* out = args.doubles(7, "out", a.rows);
  double* gamma = args.doubles(8, "gamma", a.rows * a.components);
  if (!args.ok()) return nullptr;
  mixtureLogDensity(a.z, a.rows, a.latent, a.components, a.means, a.logvars, a.logits, out, gamma);
  return undefinedValue(env);
}

napi_value MixtureBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "mixtureBackward");
  const MixtureArgs a(args);
  const double* gamma = args.doubles(7, "gamma", a.rows * a.components);
  const double scale = args.number(8, "scale");
  const float* rowScale = args.optionalFloats(9, "rowScale", a.rows);
  float* dz = args.floats(10, "dz", a.rows * a.latent);
  float* dMeans = args.floats(11, "dMeans", a.components * a.latent);
  float* dLogvars = args.floats(12, "dLogvars", a.components * a.latent);
  float* dLogits = args.floats(13, "dLogits", a.components);
  if (!args.ok()) return nullptr;
  mixtureBackward(a.z, a.rows, a.latent, a.components, a.means, a.logvars, a.logits, gamma, scale,
                  rowScale, dz, dMeans, dLogvars, dLogits);
  return undefinedValue(env);
}

}  // namespace vaekit
