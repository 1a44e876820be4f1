// The machine's float32 FMA peak, measured rather than looked up: a loop of independent FMAs on
// registers only (no memory traffic) on every thread at once. GEMM efficiency is reported against it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernels.h"
#include "simd.h"

namespace rk {
namespace {

// Twelve independent chains cover FMA latency × throughput (4 × 2 on current x86 cores, 4 × 4 on
// some Arm); a = a·m + c with m < 1 converges, so values never go denormal or infinite.
#if defined(__AVX512F__)
constexpr int kLanes = 16;
float FmaLoop(int64_t iterations) {
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  }
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float sum = 0;
  for (float x : lanes) sum += x;
  return sum;
}
#elif defined(RK_AVX2)
constexpr int kLanes = 8;
float FmaLoop(int64_t iterations) {
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  return HorizontalSum(s);
}
#else
constexpr int kLanes = 1;
float FmaLoop(int64_t iterations) {
  float a[12];
  for (int i = 0; i < 12; ++i) a[i] = static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) a[i] = std::fma(a[i], 0.999999f, 1e-6f);
  }
  float s = 0;
  for (float x : a) s += x;
  return s;
}
#endif

double Seconds(std::chrono::steady_clock::time_point since) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count(); }

}  // namespace

double MeasurePeakGflops(int threads) {
  volatile float sink = 0;
  // Calibrate to ~50 ms per run on one thread; the best of 5 runs skips moments when another
  // process had a core.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + FmaLoop(iterations);
    const double s = Seconds(t0);
    if (s > 0.02 || iterations > (int64_t{1} << 40)) {
      iterations = static_cast<int64_t>(static_cast<double>(iterations) * 0.05 / std::max(s, 1e-9)) + 1;
      break;
    }
    iterations *= 4;
  }
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<float> results(static_cast<size_t>(threads));
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t) {
      workers.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        results[static_cast<size_t>(t)] = FmaLoop(iterations);
      });
    }
    while (ready.load() < threads - 1) std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    results[0] = FmaLoop(iterations);
    for (auto& w : workers) w.join();
    const double s = Seconds(t0);
    for (float r : results) sink = sink + r;
    best = std::max(best, static_cast<double>(threads) * static_cast<double>(iterations) * 12 * kLanes * 2 / s / 1e9);
  }
  return best;
}

const char* Isa() {
#if defined(RK_AVX2) && defined(RK_F16C)
  return "avx2+fma f16c";
#elif defined(RK_AVX2)
  return "avx2+fma";
#else
  return "scalar";
#endif
}

}  // namespace rk
