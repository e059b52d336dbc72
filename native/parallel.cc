// The pool behind parallelFor. Workers wait on a generation counter: they spin briefly (a training
// step calls several kernels back to back, so the next task usually comes within microseconds),
// then sleep on a condition variable so that idle workers leave the cores to OpenBLAS.
#include "parallel.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace vaekit {
namespace {

constexpr int kMaxThreads = 64;
constexpr auto kSpin = std::chrono::microseconds(50);

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; i++) std::thread([this, i] { worker(i); }).detach();
  }

  int threads() const { return threads_; }

  // Runs chunk 0 on the caller and chunks 1..threads-1 on the workers; returns when all are done.
  void run(size_t n, size_t align, ChunkFn fn, void* context) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another JS thread is using the pool: run inline
      fn(context, 0, n);
      return;
    }
    n_ = n;
    align_ = align;
    fn_ = fn;
    context_ = context;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    runChunk(0);
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }

 private:
  void runChunk(int index) {
    const size_t units = (n_ + align_ - 1) / align_;
    const size_t begin = std::min(n_, units * index / threads_ * align_);
    const size_t end = std::min(n_, units * (index + 1) / threads_ * align_);
    if (begin < end) fn_(context_, begin, end);
  }

  void worker(int index) {
    uint64_t seen = 0;
    for (;;) {
      const auto spinUntil = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen &&
             std::chrono::steady_clock::now() < spinUntil) {
      }
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      runChunk(index);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  const int threads_;
  std::mutex busy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  size_t n_ = 0;
  size_t align_ = 1;
  ChunkFn fn_ = nullptr;
  void* context_ = nullptr;
};

Pool& pool() {
  // Never destroyed: the workers are detached and live as long as the process.
  static Pool* instance = [] {
    // VAEKIT_THREADS overrides the core count (1 turns the pool off).
    const char* requested = std::getenv("VAEKIT_THREADS");
    const long fromEnv = requested != nullptr ? std::strtol(requested, nullptr, 10) : 0;
    const unsigned hw = fromEnv > 0 ? static_cast<unsigned>(fromEnv) : std::thread::hardware_concurrency();
    const int threads = hw == 0 ? 1 : (hw > kMaxThreads ? kMaxThreads : static_cast<int>(hw));
    return new Pool(threads);
  }();
  return *instance;
}

thread_local bool tSerial = false;

}  // namespace

void setSerialHere(bool on) { tSerial = on; }

void parallelFor(size_t n, size_t minPerThread, size_t align, ChunkFn fn, void* context) {
  if (tSerial) {
    fn(context, 0, n);
    return;
  }
  Pool& p = pool();
  if (p.threads() < 2 || n < 2 * minPerThread) {
    fn(context, 0, n);
    return;
  }
  p.run(n, align == 0 ? 1 : align, fn, context);
}

int poolThreads() { return pool().threads(); }

}  // namespace vaekit
