// The kernels behind the addon. Arguments arrive already validated by addon.cc (sizes, lengths,
// segment offsets), so nothing here checks them again.
#pragma once

#include <cstdint>

#include "pool.h"

namespace rk {

struct GemmArgs {
  int64_t m, n, k;
  const float* a;
  const float* b;
  float* c;
  bool trans_a, trans_b;
  float alpha, beta;
};
void Sgemm(Pool& pool, const GemmArgs& g);

// Building blocks for kernels made of many small products (attention), single-threaded.
// Width of a packed B panel.
constexpr int64_t kPanel = 16;
// Packs op(B) (kdim × n, element (p, j) at src[p·sp + j·sj]) into panels of kPanel columns, each
// kpad rows (rows past kdim and columns past n zero).
void PackPanels(const float* src, int64_t sp, int64_t sj, int64_t kdim, int64_t kpad, int64_t n, float* dst);
// C (m×n, row stride ldc) = alpha · A · B + beta · C, with A read in place (element (i, p) at
// a[i·rs + p·cs]) and B packed by PackPanels with the same kpad; k ≤ kpad.
void SmallGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs, int64_t cs, const float* b, int64_t kpad, float* c, int64_t ldc, float alpha, float beta);

enum class WeightType { kF32 = 0, kF16 = 1, kQ8_0 = 2 };
void Dequantize(Pool& pool, WeightType type, const uint8_t* src, float* out, int64_t count);

void RmsNormForward(Pool& pool, const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* out, float* rstd);
void RmsNormBackward(Pool& pool, const float* x, const float* weight, int64_t rows, int64_t dim, const float* rstd, const float* d_out, float* d_x, float* d_weight);

struct Segments {
  const int32_t* offsets;  // S + 1 non-decreasing offsets, offsets[0] = 0, offsets[S] = T
  int64_t count;           // S
  int64_t tokens() const { return offsets[count]; }
};
void Rope(Pool& pool, float* x, const Segments& seg, int64_t heads, int64_t head_dim, double freq_base, bool inverse);

struct AttentionShape {
  Segments seg;
  int64_t heads, kv_heads, head_dim;
  float scale;
};
void AttentionForward(Pool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, float* out, float* lse);
void AttentionBackward(Pool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, const float* out, const float* lse, const float* d_out, float* dq, float* dk, float* dv);

void SwigluForward(Pool& pool, const float* gate, const float* up, float* out, int64_t n);
void SwigluBackward(Pool& pool, const float* gate, const float* up, const float* d_out, float* d_gate, float* d_up, int64_t n);

double CrossEntropy(Pool& pool, float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float scale);

// Register-only FMA loop on `threads` threads: this machine's float32 peak in GFLOP/s.
double MeasurePeakGflops(int threads);
// The instruction sets compiled in, e.g. "avx2+fma f16c" or "scalar".
const char* Isa();

}  // namespace rk
