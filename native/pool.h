// A persistent thread pool for the kernels. Every kernel call is synchronous: the calling (JS)
// thread takes part as thread 0 and returns only when all threads are done, so kernels never touch
// JS values from a worker and need no locking beyond the pool's own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace rk {

// A growable 64-byte-aligned float buffer that outlives kernel calls (no malloc/page faults per call).
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }
  float* get(size_t floats) {
    if (floats > size_) {
      std::free(data_);
      size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      size_ = data_ ? floats : 0;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

class Pool {
 public:
  static constexpr int kMaxThreads = 256;
  static constexpr int kSlots = 4;

  explicit Pool(int threads) : size_(threads < 1 ? 1 : threads), scratch_(static_cast<size_t>(size_) * kSlots) {
    for (int t = 1; t < size_; ++t) workers_.emplace_back([this, t] { Loop(t); });
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int size() const { return size_; }

  // Per-thread scratch: slot 0..kSlots-1, only ever touched by thread `tid` during a call.
  float* scratch(int tid, int slot, size_t floats) { return scratch_[static_cast<size_t>(tid) * kSlots + slot].get(floats); }
  // Scratch shared by all threads of a call (set up by the caller before it dispatches).
  float* shared(int slot, size_t floats) { return shared_[slot].get(floats); }

  // Rotary cos/sin table of the last rope call (ops.cc), reused while positions, head size and base
  // stay the same: every layer of a step rotates the same positions.
  struct RopeTable {
    int64_t positions = -1, head_dim = -1;
    double base = 0;
    std::vector<double> cos_sin;
  } rope;

  // Runs fn(tid) for tid in [0, n) on n threads (n clamped to the pool size), the caller being 0.
  template <class F>
  void Run(int n, F&& fn) {
    if (n > size_) n = size_;
    if (n <= 1) {
      fn(0);
      return;
    }
    job_ = [](void* ctx, int tid) { (*static_cast<F*>(ctx))(tid); };
    ctx_ = &fn;
    active_ = n;
    // Every worker acknowledges every dispatch (idle ones too), so none can lag a generation behind
    // and read the next dispatch's fields while they are being written.
    pending_.store(size_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0);
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 4096) Pause();
      else std::this_thread::yield();
    }
  }

  // Calls body(item, tid) for every item in [0, count), items handed out one by one from a shared
  // counter so uneven items (causal attention rows) balance themselves.
  template <class F>
  void For(int64_t count, int threads, F&& body) {
    if (threads > count) threads = static_cast<int>(count);
    std::atomic<int64_t> next{0};
    Run(threads, [&](int tid) {
      for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < count; i = next.fetch_add(1, std::memory_order_relaxed)) body(i, tid);
    });
  }

 private:
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void Loop(int tid) {
    uint64_t seen = 0;
    for (;;) {
      // Spin briefly (a kernel's next dispatch usually follows within microseconds), then sleep.
      uint64_t gen = generation_.load(std::memory_order_acquire);
      for (int spin = 0; gen == seen && spin < 2048; ++spin) {
        Pause();
        gen = generation_.load(std::memory_order_acquire);
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        gen = generation_.load(std::memory_order_acquire);
      }
      seen = gen;
      if (stop_) return;
      if (tid < active_) job_(ctx_, tid);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  const int size_;
  std::vector<std::thread> workers_;
  std::vector<Buffer> scratch_;
  Buffer shared_[kSlots];
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  void (*job_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  int active_ = 0;
  bool stop_ = false;
};

}  // namespace rk
