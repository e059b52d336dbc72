// Matrix products through oneDNN's matmul primitive: fp32 (vaekit's gemm wherever oneDNN is built
// in: faster than single-threaded OpenBLAS on every preset's shapes, BENCHMARKS.md), and bf16
// inputs with fp32 accumulation and an fp32 result (mixed precision, `--precision bf16`). Built
// only when scripts/build-native.mjs found oneDNN (VAEKIT_DNNL); otherwise the entry points say it
// is absent (toBf16, which needs no oneDNN, is always here).
//
// - A primitive is made once per (shape, transposes, split) and kept: making one costs far more
//   than running it on these sizes. Its scratchpad is the caller's (thread_local), so two threads
//   may run the same primitive at once.
// - Threads: Debian's oneDNN runs on OpenMP. Every thread that calls oneDNN sets OpenMP to one
//   thread for itself, and vaekit's own pool splits each product across the cores, as it does for
//   OpenBLAS: one set of threads for products and elementwise kernels alike (two sets of spinning
//   workers took the cores from each other, BENCHMARKS.md).
// - Signals: oneDNN 2.x's jit sgemm kernels (jit_avx512_common_gemm_f32 and its AVX2 twin, which
//   its fp32 matmul picks for some of our shapes) point rsp at a heap buffer while they run. A
//   signal delivered to the thread then (a profiler's SIGPROF, SIGINT, a terminal's SIGWINCH)
//   writes its frame into the heap and corrupts it: `node --cpu-prof` on a training aborted with
//   "corrupted size vs. prev_size" every time. oneDNN fixed it in 3.11 (its issue #4845); here
//   each call holds the asynchronous signals on its thread (SignalsHeld) and they arrive as it
//   returns.
// - bf16: the caller rounds its operands to bf16 once (toBf16, round to nearest even as oneDNN and
//   PyTorch do) and keeps the copies it uses twice (a layer's weights and inputs), so no product
//   converts anything.
#include "dnnl_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "activation.h"
#include "bf16.h"
#include "gemm.h"
#include "parallel.h"
#include "simd.h"

#ifdef VAEKIT_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <csignal>
extern "C" void omp_set_num_threads(int);
#endif

namespace vaekit {

// Rounds n floats to bf16 (bf16.h).
VAEKIT_SIMD_CLONES
void toBf16(const float* from, uint16_t* to, size_t n) {
  for (size_t i = 0; i < n; i++) to[i] = bf16Of(from[i]);
}

void toBf16OverPool(const float* from, uint16_t* to, size_t n) {
  parallelFor(n, 1 << 16, 64, [&](size_t begin, size_t end) { toBf16(from + begin, to + begin, end - begin); });
}

#ifdef VAEKIT_DNNL
namespace {

// Products with fewer multiply-adds than this run on one thread (waking the pool costs more).
constexpr size_t kMinParallelWork = size_t{1} << 19;

dnnl_engine_t engine() {
  static dnnl_engine_t e = [] {
    dnnl_engine_t made = nullptr;
    if (dnnl_engine_create(&made, dnnl_cpu, 0) != dnnl_success) return static_cast<dnnl_engine_t>(nullptr);
    return made;
  }();
  return e;
}

// Called on every thread before it touches oneDNN: OpenMP gets one thread there.
void singleThreadedHere() {
  static thread_local bool done = false;
  if (!done) {
    omp_set_num_threads(1);
    done = true;
  }
}

struct Key {
  int dtype;  // dnnl_bf16 or dnnl_f32
  bool transA, transB;
  int m, n, k, lda, ldb;
  float alpha, beta;
  int ldc = 0;  // C's leading dimension; 0 for n (C dense)
  bool operator==(const Key& o) const {
    return dtype == o.dtype && transA == o.transA && transB == o.transB && m == o.m && n == o.n &&
           k == o.k && lda == o.lda && ldb == o.ldb && alpha == o.alpha && beta == o.beta && ldc == o.ldc;
  }
};

struct KeyHash {
  size_t operator()(const Key& key) const {
    size_t h = static_cast<size_t>(key.dtype) * 31 + (key.transA ? 7 : 0) + (key.transB ? 13 : 0);
    for (int v : {key.m, key.n, key.k, key.lda, key.ldb, key.ldc}) h = h * 1000003u ^ static_cast<size_t>(v);
    uint32_t a, b;
    std::memcpy(&a, &key.alpha, 4);
    std::memcpy(&b, &key.beta, 4);
    return h * 1000003u ^ a ^ (static_cast<size_t>(b) << 20);
  }
};

struct Matmul {
  dnnl_primitive_t primitive = nullptr;
  dnnl_memory_desc_t a, b, c, scratch;
  size_t scratchBytes = 0;
  std::string impl;
};

std::mutex gCacheMutex;
std::unordered_map<Key, Matmul*, KeyHash> gCache;
std::string gLastImpl[2];  // the kernels oneDNN picked most recently, per precision (info)

bool describe(dnnl_memory_desc_t* md, int rows, int cols, bool transposed, int ld, dnnl_data_type_t type) {
  const dnnl_dims_t dims = {rows, cols};
  // Row-major [rows, cols] with leading dimension ld, or its transpose stored [cols, rows].
  const dnnl_dims_t strides = {transposed ? 1 : ld, transposed ? ld : 1};
  return dnnl_memory_desc_init_by_strides(md, 2, dims, type, strides) == dnnl_success;
}

// The primitive for key, made on first use; nullptr when oneDNN refuses the shape.
Matmul* matmulFor(const Key& key) {
  std::lock_guard<std::mutex> lock(gCacheMutex);
  auto found = gCache.find(key);
  if (found != gCache.end()) return found->second;
  singleThreadedHere();
  auto* made = new Matmul();
  const auto type = static_cast<dnnl_data_type_t>(key.dtype);
  bool ok = describe(&made->a, key.m, key.k, key.transA, key.lda, type) &&
            describe(&made->b, key.k, key.n, key.transB, key.ldb, type) &&
            describe(&made->c, key.m, key.n, false, key.ldc == 0 ? key.n : key.ldc, dnnl_f32);
  dnnl_matmul_desc_t desc;
  ok = ok && dnnl_matmul_desc_init(&desc, &made->a, &made->b, nullptr, &made->c) == dnnl_success;
  dnnl_primitive_attr_t attr = nullptr;
  ok = ok && dnnl_primitive_attr_create(&attr) == dnnl_success;
  ok = ok && dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success;
  if (ok && key.alpha != 1.0f) ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &key.alpha) == dnnl_success;
  dnnl_post_ops_t post = nullptr;
  if (ok && key.beta != 0.0f) {
    ok = dnnl_post_ops_create(&post) == dnnl_success && dnnl_post_ops_append_sum(post, key.beta) == dnnl_success &&
         dnnl_primitive_attr_set_post_ops(attr, post) == dnnl_success;
  }
  dnnl_primitive_desc_t pd = nullptr;
  ok = ok && dnnl_primitive_desc_create(&pd, &desc, attr, engine(), nullptr) == dnnl_success;
  if (ok) {
    const char* impl = nullptr;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl != nullptr) made->impl = impl;
    const dnnl_memory_desc_t* scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (scratch != nullptr) {
      made->scratch = *scratch;
      made->scratchBytes = dnnl_memory_desc_get_size(scratch);
    }
    ok = dnnl_primitive_create(&made->primitive, pd) == dnnl_success;
  }
  if (pd != nullptr) dnnl_primitive_desc_destroy(pd);
  if (post != nullptr) dnnl_post_ops_destroy(post);
  if (attr != nullptr) dnnl_primitive_attr_destroy(attr);
  if (!ok) {
    delete made;
    made = nullptr;
  } else {
    gLastImpl[key.dtype == dnnl_bf16 ? 1 : 0] = made->impl;
  }
  gCache.emplace(key, made);
  return made;
}

dnnl_stream_t threadStream() {
  static thread_local dnnl_stream_t stream = [] {
    dnnl_stream_t s = nullptr;
    if (dnnl_stream_create(&s, engine(), dnnl_stream_default_flags) != dnnl_success) return static_cast<dnnl_stream_t>(nullptr);
    return s;
  }();
  return stream;
}

// Blocks every signal but those a fault raises on this thread for its lifetime (see the top).
class SignalsHeld {
 public:
  SignalsHeld() {
    static const sigset_t held = [] {
      sigset_t set;
      sigfillset(&set);
      for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&set, fault);
      return set;
    }();
    pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t previous_;
};

bool execute(Matmul* mm, const void* a, const void* b, float* c) {
  singleThreadedHere();
  dnnl_stream_t stream = threadStream();
  if (stream == nullptr) return false;
  static thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < mm->scratchBytes) scratch.resize(mm->scratchBytes);
  dnnl_memory_t ma = nullptr, mb = nullptr, mc = nullptr, ms = nullptr;
  bool ok = dnnl_memory_create(&ma, &mm->a, engine(), const_cast<void*>(a)) == dnnl_success &&
            dnnl_memory_create(&mb, &mm->b, engine(), const_cast<void*>(b)) == dnnl_success &&
            dnnl_memory_create(&mc, &mm->c, engine(), c) == dnnl_success;
  if (ok && mm->scratchBytes > 0) ok = dnnl_memory_create(&ms, &mm->scratch, engine(), scratch.data()) == dnnl_success;
  if (ok) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}, {DNNL_ARG_SCRATCHPAD, ms}};
    const SignalsHeld held;
    ok = dnnl_primitive_execute(mm->primitive, stream, ms != nullptr ? 4 : 3, args) == dnnl_success &&
         dnnl_stream_wait(stream) == dnnl_success;
  }
  for (dnnl_memory_t m : {ma, mb, mc, ms}) {
    if (m != nullptr) dnnl_memory_destroy(m);
  }
  return ok;
}

// Runs C = alpha op(A) op(B) + beta C with element type `type` (A and B already of that type) on
// the pool in bands of rows of C. Bands keep every operand dense (rows of C and of a row-major A
// are contiguous), which oneDNN's brgemm kernels (AMX among them) need: given a strided column
// band, it fell back to its slower jit gemm. The bands (at least 64 rows, at most 8 of them: more
// calls cost more than they gained on 2 cores) follow
// from m alone, never from the thread count: oneDNN picks its kernel and blocking by a call's
// shape, so bands cut by the thread count could give other bits on other machines (issue 22).
bool runRowBands(dnnl_data_type_t type, size_t elementSize, bool transA, bool transB, int m, int n, int k,
                 float alpha, const void* a, const void* b, float beta, float* c, const Epilogue* epilogue) {
  const int lda = transA ? m : k;
  const int ldb = transB ? k : n;
  const size_t work = static_cast<size_t>(m) * n * k;
  const size_t bands = work >= kMinParallelWork ? weightRowUnits(static_cast<size_t>(m)) : 1;
  std::atomic<bool> failed{false};
  parallelUnits(static_cast<size_t>(m), bands, 16, [&](size_t begin, size_t end) {
    // Rows [begin, end) of op(A) start at row begin of A, or at column begin of A^T's storage. A
    // bf16 band of A^T is copied out row-major first: oneDNN ran a strided band on its jit gemm at
    // half the speed of its AMX brgemm, and the copy is a small part of the product.
    const bool copyBand = transA && type == dnnl_bf16;
    const void* partA = static_cast<const uint8_t*>(a) + (transA ? begin : begin * lda) * elementSize;
    if (copyBand) partA = transposedRows(static_cast<const uint16_t*>(a), m, k, begin, end);
    const Key key{static_cast<int>(type), transA && !copyBand, transB, static_cast<int>(end - begin), n, k,
                  copyBand ? k : lda, ldb, alpha, beta};
    Matmul* mm = matmulFor(key);
    if (mm == nullptr || !execute(mm, partA, b, c + begin * n)) {
      failed = true;
    } else if (epilogue != nullptr) {
      biasActivationRows(c, epilogue->bias, c, begin, end, n, epilogue->act, epilogue->slope);
    }
  });
  return !failed;
}

// Runs body(first, last) over units [0, count): on the pool, or on this thread where the product is
// too small to wake it. The units are the same either way, so the bits are too.
template <typename F>
void runUnits(size_t count, bool pool, F&& body) {
  if (pool) {
    parallelFor(count, 1, 1, body);
  } else {
    body(0, count);
  }
}

// An input gradient through a layer's weights, C [m, n] = alpha A B^T + beta C with B = W stored
// [n, k] (n the layer's inputs): in bands of C's columns, which are bands of W's rows (weightRowUnits).
bool runWeightRowColumns(dnnl_data_type_t type, size_t elementSize, int m, int n, int k, float alpha,
                         const void* a, const void* b, float beta, float* c, bool pool) {
  const size_t units = weightRowUnits(static_cast<size_t>(n));
  std::atomic<bool> failed{false};
  runUnits(units, pool, [&](size_t first, size_t last) {
    for (size_t u = first; u < last; u++) {
      const size_t begin = unitStart(static_cast<size_t>(n), units, 16, u), end = unitStart(static_cast<size_t>(n), units, 16, u + 1);
      // Into a dense buffer, copied into C's columns after: given C with its leading dimension,
      // oneDNN's result for a row depended on how many rows came with it.
      const size_t width = end - begin;
      static thread_local std::vector<float> band;
      if (band.size() < static_cast<size_t>(m) * width) band.resize(static_cast<size_t>(m) * width);
      if (beta != 0.0f) {
        for (int r = 0; r < m; r++) std::memcpy(band.data() + r * width, c + static_cast<size_t>(r) * n + begin, width * sizeof(float));
      }
      const Key key{static_cast<int>(type), false, true, m, static_cast<int>(width), k, k, k, alpha, beta};
      Matmul* mm = matmulFor(key);
      if (mm == nullptr || !execute(mm, a, static_cast<const uint8_t*>(b) + begin * k * elementSize, band.data())) {
        failed = true;
        continue;
      }
      for (int r = 0; r < m; r++) std::memcpy(c + static_cast<size_t>(r) * n + begin, band.data() + r * width, width * sizeof(float));
    }
  });
  return !failed;
}

// A layer's forward product, C [m, n] = alpha A B + beta C with B = W [k, n] (k the layer's inputs):
// split along k into two halves at the middle of W's row units, each half in bands of C's columns
// (as many as W has row units, halved), so that on two threads each reads only its half of W's rows.
// The first half goes into C with beta, the second into a buffer of its own, added to C after.
bool runWeightRowHalves(dnnl_data_type_t type, size_t elementSize, int m, int n, int k, float alpha,
                        const void* a, const void* b, float beta, float* c, bool pool, const Epilogue* epilogue) {
  if (m == 1) {
    // oneDNN takes a single row of these slices by another kernel, whose sums differ in their last
    // bits: the row goes twice, as a batch of 2, so that it comes out as it does in any batch.
    std::vector<uint8_t> rows(2 * static_cast<size_t>(k) * elementSize);
    std::memcpy(rows.data(), a, static_cast<size_t>(k) * elementSize);
    std::memcpy(rows.data() + static_cast<size_t>(k) * elementSize, a, static_cast<size_t>(k) * elementSize);
    std::vector<float> out(2 * static_cast<size_t>(n));
    std::memcpy(out.data(), c, static_cast<size_t>(n) * sizeof(float));
    if (!runWeightRowHalves(type, elementSize, 2, n, k, alpha, rows.data(), b, beta, out.data(), pool, epilogue)) return false;
    std::memcpy(c, out.data(), static_cast<size_t>(n) * sizeof(float));
    return true;
  }
  const size_t units = weightRowUnits(static_cast<size_t>(k));
  const size_t middle = unitStart(static_cast<size_t>(k), units, 16, units / 2);
  const size_t columns = units / 2;
  static thread_local std::vector<float> second;
  const size_t size = static_cast<size_t>(m) * n;
  if (second.size() < size) second.resize(size);
  float* upper = second.data();
  std::atomic<bool> failed{false};
  runUnits(2 * columns, pool, [&](size_t first, size_t last) {
    for (size_t u = first; u < last; u++) {
      const size_t half = u / columns;
      const size_t c0 = unitStart(static_cast<size_t>(n), columns, 16, u % columns);
      const size_t c1 = unitStart(static_cast<size_t>(n), columns, 16, u % columns + 1);
      const size_t k0 = half == 0 ? 0 : middle, k1 = half == 0 ? middle : static_cast<size_t>(k);
      if (c0 >= c1) continue;
      Key key{static_cast<int>(type), false, false, m, static_cast<int>(c1 - c0), static_cast<int>(k1 - k0), k, n, alpha, half == 0 ? beta : 0.0f};
      key.ldc = n;
      Matmul* mm = matmulFor(key);
      const void* partA = static_cast<const uint8_t*>(a) + k0 * elementSize;
      const void* partB = static_cast<const uint8_t*>(b) + (k0 * n + c0) * elementSize;
      if (mm == nullptr || !execute(mm, partA, partB, (half == 0 ? c : upper) + c0)) failed = true;
    }
  });
  if (failed) return false;
  // An elementwise pass in whole rows: parallelFor keeps a small one (any product not on the pool)
  // on this thread. A layer's bias and activation are applied to each row as its sum is made.
  parallelFor(size, 1 << 15, static_cast<size_t>(n), [&](size_t begin, size_t end) {
    for (size_t row = begin / n; row < end / n; row++) {
      float* to = c + row * n;
      const float* from = upper + row * n;
      for (int j = 0; j < n; j++) to[j] += from[j];
      if (epilogue != nullptr) biasActivationRows(c, epilogue->bias, c, row, row + 1, n, epilogue->act, epilogue->slope);
    }
  });
  return true;
}

// C = alpha A^T op(B) + beta C split along k, for the weight gradients' shape (k, the batch's
// rows or positions, much larger than m and n): part p multiplies rows [k_p, k_p+1) of A's and
// B's storage (both dense there, so oneDNN's brgemm takes them as they are), part 0 into C with
// beta and the others into their own buffers, which are then added to C in a fixed order. The
// number of parts follows from k alone, so the bits do not depend on the thread count.
bool runSplitK(dnnl_data_type_t type, size_t elementSize, bool transB, int m, int n, int k, float alpha,
               const void* a, const void* b, float beta, float* c, int parts) {
  const int ldb = transB ? k : n;
  static thread_local std::vector<float> partials;
  const size_t size = static_cast<size_t>(m) * n;
  if (partials.size() < size * (parts - 1)) partials.resize(size * (parts - 1));
  float* extra = partials.data();
  std::atomic<bool> failed{false};
  parallelUnits(static_cast<size_t>(parts), static_cast<size_t>(parts), 1, [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; p++) {
      const int k0 = static_cast<int>(static_cast<int64_t>(k) * p / parts);
      const int k1 = static_cast<int>(static_cast<int64_t>(k) * (p + 1) / parts);
      const Key key{static_cast<int>(type), true, transB, m, n, k1 - k0, m, ldb, alpha, p == 0 ? beta : 0.0f};
      Matmul* mm = matmulFor(key);
      const void* partA = static_cast<const uint8_t*>(a) + static_cast<size_t>(k0) * m * elementSize;
      const void* partB = static_cast<const uint8_t*>(b) + (transB ? k0 : static_cast<size_t>(k0) * n) * elementSize;
      float* to = p == 0 ? c : extra + (p - 1) * size;
      if (mm == nullptr || !execute(mm, partA, partB, to)) {
        failed = true;
      }
    }
  });
  if (failed) return false;
  parallelFor(size, 1 << 15, 16, [&](size_t begin, size_t end) {
    for (int p = 1; p < parts; p++) {
      const float* from = extra + (p - 1) * size;
      for (size_t i = begin; i < end; i++) c[i] += from[i];
    }
  });
  return true;
}

// One product on the pool: row bands, except an fp32 batch through a layer's weights (cut by the
// weights' rows, below) and a transposed A with a long k (a weight gradient), which is split along k
// into parts of at least 256 (at most 16 parts).
//
// An epilogue (a layer's bias and activation; only for !transA and !transB) is applied to each row
// band, or each row of the halves' sum, as it is finished.
bool runProduct(dnnl_data_type_t type, size_t elementSize, bool transA, bool transB, int m, int n, int k,
                float alpha, const void* a, const void* b, float beta, float* c, const Epilogue* epilogue = nullptr) {
  const int parts = std::min(16, k / 256);
  const size_t work = static_cast<size_t>(m) * n * k;
  // fp32 products of a batch (m <= 256) with a layer's weights cut the weights by their rows, as the
  // weight gradient's row bands and Adam do (weightRowUnits). Cut as the other products are (every
  // thread reads all of W), Adam took 0.51 ms a step on 2 threads and 0.29 when the products had read
  // another array: its writes had to take each line of W from the other core (BENCHMARKS.md,
  // Scaling). bf16 products stay in row bands: oneDNN's AMX kernels ran the strided halves at 0.65
  // of their speed, and bf16 products read the weights' bf16 copy, not the weights. Whether a
  // product is so cut follows from W's shape alone (weights a batch of 128 would multiply on the
  // pool), not from m, so that a row's result is the same in a batch of 2 as in one of 256 (the
  // studio decodes a code alone or with others); only the pool is skipped for small products.
  if (type == dnnl_f32 && !transA && m <= 256 && static_cast<size_t>(n) * k * 128 >= kMinParallelWork) {
    const bool pool = work >= kMinParallelWork;
    if (!transB && weightRowUnits(static_cast<size_t>(k)) >= 2) return runWeightRowHalves(type, elementSize, m, n, k, alpha, a, b, beta, c, pool, epilogue);
    if (transB && weightRowUnits(static_cast<size_t>(n)) >= 2) return runWeightRowColumns(type, elementSize, m, n, k, alpha, a, b, beta, c, pool);
  }
  if (transA && parts >= 2 && work >= kMinParallelWork && k >= 2 * std::max(m, n)) {
    return runSplitK(type, elementSize, transB, m, n, k, alpha, a, b, beta, c, parts);
  }
  return runRowBands(type, elementSize, transA, transB, m, n, k, alpha, a, b, beta, c, epilogue);
}

// A dense layer's forward, C [m, n] = act(A B + bias): the product with the layer's bias and
// activation as its epilogue (runProduct), in fp32 or with A and B in bf16.
bool denseForward(dnnl_data_type_t type, size_t elementSize, int m, int n, int k, const void* a, const void* b,
                  const float* bias, int act, double slope, float* c) {
  if (dnnlUnavailableReason() != nullptr) return false;
  if (m <= 0 || n <= 0) return true;
  if (k <= 0) {
    gemm(false, false, m, n, 0, 1.0f, nullptr, nullptr, 0.0f, c);  // beta * C with beta 0, as gemmDnnlF32 and gemmBf16
    biasActivation(c, bias, c, static_cast<size_t>(m), static_cast<size_t>(n), act, slope);
    return true;
  }
  const Epilogue epilogue{bias, act, slope};
  return runProduct(type, elementSize, false, false, m, n, k, 1.0f, a, b, 0.0f, c, &epilogue);
}

}  // namespace

bool dnnlCompiled() { return true; }

const char* dnnlUnavailableReason() {
  static const char* reason = [] {
    const char* flag = std::getenv("VAEKIT_DNNL");
    if (flag != nullptr && std::strcmp(flag, "off") == 0) return "oneDNN is turned off (VAEKIT_DNNL=off)";
    if (engine() == nullptr) return "oneDNN could not create a CPU engine";
    return static_cast<const char*>(nullptr);
  }();
  return reason;
}

const char* dnnlVersion() {
  static std::string text = [] {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return text.c_str();
}

const char* dnnlIsa() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
  }
}

bool dnnlNativeBf16() {
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

std::string dnnlKernel(bool bf16) {
  std::lock_guard<std::mutex> lock(gCacheMutex);
  return gLastImpl[bf16 ? 1 : 0];
}

bool gemmDnnlF32(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  if (dnnlUnavailableReason() != nullptr) return false;
  if (m <= 0 || n <= 0) return true;
  if (k <= 0) {
    gemm(transA, transB, m, n, k, alpha, a, b, beta, c);  // beta * C, as BLAS does
    return true;
  }
  return runProduct(dnnl_f32, sizeof(float), transA, transB, m, n, k, alpha, a, b, beta, c);
}

bool gemmDnnlF32BiasActivation(int m, int n, int k, const float* a, const float* b, const float* bias,
                               int act, double slope, float* c) {
  return denseForward(dnnl_f32, sizeof(float), m, n, k, a, b, bias, act, slope, c);
}

bool gemmBf16BiasActivation(int m, int n, int k, const uint16_t* a, const uint16_t* b, const float* bias,
                            int act, double slope, float* c) {
  return denseForward(dnnl_bf16, sizeof(uint16_t), m, n, k, a, b, bias, act, slope, c);
}

bool gemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, const uint16_t* a,
              const uint16_t* b, float beta, float* c) {
  if (dnnlUnavailableReason() != nullptr) return false;
  if (m <= 0 || n <= 0) return true;
  if (k <= 0) {
    gemm(transA, transB, m, n, 0, alpha, nullptr, nullptr, beta, c);  // beta * C, as BLAS does
    return true;
  }
  return runProduct(dnnl_bf16, sizeof(uint16_t), transA, transB, m, n, k, alpha, a, b, beta, c);
}

#else  // no oneDNN in this build

bool dnnlCompiled() { return false; }
const char* dnnlUnavailableReason() { return "this build of the addon has no oneDNN (install libdnnl-dev and rebuild)"; }
const char* dnnlVersion() { return ""; }
const char* dnnlIsa() { return ""; }
bool dnnlNativeBf16() { return false; }
std::string dnnlKernel(bool) { return ""; }
bool gemmDnnlF32(bool, bool, int, int, int, float, const float*, const float*, float, float*) { return false; }
bool gemmBf16(bool, bool, int, int, int, float, const uint16_t*, const uint16_t*, float, float*) { return false; }
bool gemmDnnlF32BiasActivation(int, int, int, const float*, const float*, const float*, int, double, float*) { return false; }
bool gemmBf16BiasActivation(int, int, int, const uint16_t*, const uint16_t*, const float*, int, double, float*) { return false; }

#endif

}  // namespace vaekit
