// Everything but GEMM: dequantization, RMSNorm, rotary embedding, attention, SwiGLU, cross-entropy.
// Work is split into fixed pieces whose results never depend on which thread ran them, so every
// kernel gives the same bits for the same inputs whatever the thread count (resume needs that).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "simd.h"

namespace rk {
namespace {

// Below about this many scalar operations (~100 µs) a kernel stays on the calling thread: waking
// the pool costs tens of microseconds, more on a busy machine.
constexpr double kParallelWork = 1 << 20;

int ThreadsFor(const Pool& pool, double work) { return work < kParallelWork ? 1 : pool.size(); }

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal half: normalize into a float exponent
      uint32_t e = 0;
      while (!(mantissa & 0x400u)) {
        mantissa <<= 1;
        ++e;
      }
      bits = sign | ((113 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void HalfsToFloats(const uint8_t* src, float* out, int64_t n) {
  int64_t i = 0;
#ifdef RK_F16C
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i))));
#endif
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    out[i] = HalfToFloat(h);
  }
}

constexpr int64_t kQ8Block = 32;
constexpr int64_t kQ8Bytes = 34;

void DequantizeQ8Block(const uint8_t* src, float* out) {
  uint16_t h;
  std::memcpy(&h, src, 2);
  const float d = HalfToFloat(h);
  const int8_t* q = reinterpret_cast<const int8_t*>(src + 2);
#ifdef RK_AVX2
  const __m256 vd = _mm256_set1_ps(d);
  for (int g = 0; g < 4; ++g) {
    const __m256i wide = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * g)));
    _mm256_storeu_ps(out + 8 * g, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(wide)));
  }
#else
  for (int64_t i = 0; i < kQ8Block; ++i) out[i] = d * static_cast<float>(q[i]);
#endif
}

// A run of rows (or keys) [begin, end) inside segment `seg` = [seg_begin, seg_end).
struct Block {
  int64_t seg, seg_begin, seg_end, begin, end;
};

std::vector<Block> RowBlocks(const Segments& seg, int64_t size) {
  std::vector<Block> blocks;
  for (int64_t s = 0; s < seg.count; ++s) {
    const int64_t b = seg.offsets[s], e = seg.offsets[s + 1];
    for (int64_t r = b; r < e; r += size) blocks.push_back({s, b, e, r, std::min(r + size, e)});
  }
  return blocks;
}

int64_t LongestSegment(const Segments& seg) {
  int64_t longest = 0;
  for (int64_t s = 0; s < seg.count; ++s) longest = std::max<int64_t>(longest, seg.offsets[s + 1] - seg.offsets[s]);
  return longest;
}

double AttentionWork(const AttentionShape& s) {
  double work = 0;
  for (int64_t i = 0; i < s.seg.count; ++i) {
    const double len = s.seg.offsets[i + 1] - s.seg.offsets[i];
    work += len * (len + 1) / 2;
  }
  return work * static_cast<double>(s.heads * s.head_dim);
}

}  // namespace

void Dequantize(Pool& pool, WeightType type, const uint8_t* src, float* out, int64_t count) {
  constexpr int64_t chunk = 1 << 16;  // values per work item; a multiple of the Q8_0 block
  const int64_t items = (count + chunk - 1) / chunk;
  pool.For(items, ThreadsFor(pool, static_cast<double>(count)), [&](int64_t item, int) {
    const int64_t begin = item * chunk, n = std::min(chunk, count - begin);
    switch (type) {
      case WeightType::kF32:
        std::memcpy(out + begin, src + 4 * begin, sizeof(float) * n);
        break;
      case WeightType::kF16:
        HalfsToFloats(src + 2 * begin, out + begin, n);
        break;
      case WeightType::kQ8_0:
        for (int64_t b = 0; b < n / kQ8Block; ++b) DequantizeQ8Block(src + (begin / kQ8Block + b) * kQ8Bytes, out + begin + b * kQ8Block);
        break;
    }
  });
}

void RmsNormForward(Pool& pool, const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* out, float* rstd) {
  pool.For(rows, ThreadsFor(pool, static_cast<double>(rows * dim) * 3), [&](int64_t r, int) {
    const float* xr = x + r * dim;
    float* o = out + r * dim;
    const float s = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dot(xr, xr, dim)) / dim + eps));
    for (int64_t j = 0; j < dim; ++j) o[j] = xr[j] * s * weight[j];
    rstd[r] = s;
  });
}

void RmsNormBackward(Pool& pool, const float* x, const float* weight, int64_t rows, int64_t dim, const float* rstd, const float* d_out, float* d_x, float* d_weight) {
  // dWeight sums over rows: each fixed chunk of rows gets its own partial row, added up in order.
  constexpr int64_t chunk = 64;
  const int64_t chunks = (rows + chunk - 1) / chunk;
  float* partial = d_weight ? pool.shared(1, static_cast<size_t>(chunks * dim)) : nullptr;
  pool.For(chunks, ThreadsFor(pool, static_cast<double>(rows * dim) * 6), [&](int64_t c, int) {
    float* pw = partial ? partial + c * dim : nullptr;
    if (pw) std::fill(pw, pw + dim, 0.0f);
    for (int64_t r = c * chunk; r < std::min(rows, (c + 1) * chunk); ++r) {
      const float* xr = x + r * dim;
      const float* dy = d_out + r * dim;
      float* dx = d_x + r * dim;
      const float s = rstd[r];
      double g = 0;
      for (int64_t j = 0; j < dim; ++j) g += static_cast<double>(dy[j]) * weight[j] * xr[j];
      const float coef = static_cast<float>(g * s * s * s / dim);
      // dWeight first: dX may be the same array as dOut or x (in place).
      if (pw) for (int64_t j = 0; j < dim; ++j) pw[j] += dy[j] * xr[j] * s;
      for (int64_t j = 0; j < dim; ++j) dx[j] = s * weight[j] * dy[j] - coef * xr[j];
    }
  });
  if (!d_weight) return;
  for (int64_t c = 0; c < chunks; ++c) {
    const float* pw = partial + c * dim;
    for (int64_t j = 0; j < dim; ++j) d_weight[j] += pw[j];
  }
}

void Rope(Pool& pool, float* x, const Segments& seg, int64_t heads, int64_t head_dim, double freq_base, bool inverse) {
  const int64_t half = head_dim / 2;
  const int64_t positions = LongestSegment(seg);
  // cos/sin per (position, pair) in double like the JS reference, cached across calls.
  Pool::RopeTable& table = pool.rope;
  if (table.positions < positions || table.head_dim != head_dim || table.base != freq_base) {
    table.cos_sin.resize(static_cast<size_t>(positions * half * 2));
    std::vector<double> inv_freq(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i) inv_freq[static_cast<size_t>(i)] = std::pow(freq_base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    for (int64_t p = 0; p < positions; ++p) {
      for (int64_t i = 0; i < half; ++i) {
        const double theta = static_cast<double>(p) * inv_freq[static_cast<size_t>(i)];
        table.cos_sin[static_cast<size_t>((p * half + i) * 2)] = std::cos(theta);
        table.cos_sin[static_cast<size_t>((p * half + i) * 2 + 1)] = std::sin(theta);
      }
    }
    table.positions = positions;
    table.head_dim = head_dim;
    table.base = freq_base;
  }
  const double sign = inverse ? -1.0 : 1.0;
  const int64_t tokens = seg.tokens();
  pool.For(tokens, ThreadsFor(pool, static_cast<double>(tokens * heads * head_dim) * 4), [&](int64_t t, int) {
    const int64_t s = std::upper_bound(seg.offsets, seg.offsets + seg.count + 1, static_cast<int32_t>(t)) - seg.offsets - 1;
    const double* cs = table.cos_sin.data() + (t - seg.offsets[s]) * half * 2;
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double c = cs[2 * i], sn = sign * cs[2 * i + 1];
        const double a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = static_cast<float>(a * c - b * sn);
        v[2 * i + 1] = static_cast<float>(a * sn + b * c);
      }
    }
  });
}

namespace {

// Where each segment's keys sit in the packed K/V buffers: segments padded to whole panels.
struct KeyLayout {
  std::vector<int64_t> offset;  // padded key offset of segment s
  int64_t padded = 0;           // all segments, padded
  static int64_t Pad(int64_t keys) { return (keys + kPanel - 1) / kPanel * kPanel; }
  explicit KeyLayout(const Segments& seg) : offset(static_cast<size_t>(seg.count)) {
    for (int64_t s = 0; s < seg.count; ++s) {
      offset[static_cast<size_t>(s)] = padded;
      padded += Pad(seg.offsets[s + 1] - seg.offsets[s]);
    }
  }
};

// Packs, for every kv head and segment, K or V as the B operand of a product: `over_keys` = panels
// of 16 keys × headDim (for Q·Kᵀ), otherwise panels of 16 dims × keys (for P·V).
void PackKeys(Pool& pool, const AttentionShape& s, const KeyLayout& layout, const float* src, bool over_keys, float* dst, int threads) {
  const int64_t D = s.head_dim, ks = s.kv_heads * D, dp = KeyLayout::Pad(D);
  pool.For(s.kv_heads * s.seg.count, threads, [&](int64_t item, int) {
    const int64_t g = item / s.seg.count, sg = item % s.seg.count;
    const int64_t begin = s.seg.offsets[sg], keys = s.seg.offsets[sg + 1] - begin;
    const float* base = src + begin * ks + g * D;
    const int64_t at = g * layout.padded + layout.offset[static_cast<size_t>(sg)];
    if (over_keys) PackPanels(base, 1, ks, D, D, keys, dst + at * D);
    else PackPanels(base, ks, 1, keys, KeyLayout::Pad(keys), D, dst + at * dp);
  });
}

const float* KeyPanels(const AttentionShape& s, const KeyLayout& layout, const float* packed, int64_t g, int64_t sg) {
  return packed + (g * layout.padded + layout.offset[static_cast<size_t>(sg)]) * s.head_dim;
}

// Panels of 16 dims, each as long as the whole (padded) segment.
const float* DimPanels(const AttentionShape& s, const KeyLayout& layout, const float* packed, int64_t g, int64_t sg) {
  return packed + (g * layout.padded + layout.offset[static_cast<size_t>(sg)]) * KeyLayout::Pad(s.head_dim);
}

// Row r of S holds scores of query first_row + r against keys from first_key on; turns the first
// `cols` of each into exp(score − lse) with keys past the query (causal) set to 0.
void Probabilities(float* S, int64_t ld, int64_t rows, int64_t cols, int64_t first_row, int64_t first_key, const float* lse_row) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = S + r * ld;
    const int64_t visible = std::clamp<int64_t>(first_row + r - first_key + 1, 0, cols);
    ExpShiftSum(row, lse_row[first_row + r], visible);
    std::fill(row + visible, row + cols, 0.0f);
  }
}

// dS = P ⊙ (dP − delta), in place on dP.
void ScoreGradients(const float* P, float* dP, int64_t ld, int64_t rows, int64_t cols, int64_t first_row, const float* delta_row) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = P + r * ld;
    float* d = dP + r * ld;
    const float delta = delta_row[first_row + r];
    for (int64_t j = 0; j < cols; ++j) d[j] = p[j] * (d[j] - delta);
  }
}

constexpr int64_t kAttnRows = 48;  // query rows per work item (8 register tiles)
constexpr int64_t kAttnKeys = 64;  // keys per dK/dV work item (4 panels)

}  // namespace

// Flash-style in blocks: each item takes kAttnRows query rows of one head, computes their scores
// against the segment's keys so far as one small GEMM, the softmax in place, and P·V as another.
void AttentionForward(Pool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, float* out, float* lse) {
  const int64_t T = s.seg.tokens(), D = s.head_dim, qs = s.heads * D, group = s.heads / s.kv_heads;
  const int threads = ThreadsFor(pool, AttentionWork(s));
  const KeyLayout layout(s.seg);
  float* k_panels = pool.shared(1, static_cast<size_t>(s.kv_heads * layout.padded * D));
  float* v_panels = pool.shared(2, static_cast<size_t>(s.kv_heads * layout.padded * KeyLayout::Pad(D)));
  PackKeys(pool, s, layout, k, true, k_panels, threads);
  PackKeys(pool, s, layout, v, false, v_panels, threads);
  const std::vector<Block> blocks = RowBlocks(s.seg, kAttnRows);
  const int64_t nb = static_cast<int64_t>(blocks.size());
  // Items run from the last row block of each segment (the most keys) down, so the long ones start first.
  pool.For(nb * s.heads, threads, [&](int64_t item, int tid) {
    const int64_t h = item % s.heads, g = h / group;
    const Block& blk = blocks[static_cast<size_t>(nb - 1 - item / s.heads)];
    const int64_t sg = blk.seg;
    const int64_t rows = blk.end - blk.begin, keys = blk.end - blk.seg_begin, ld = KeyLayout::Pad(keys);
    float* S = pool.scratch(tid, 0, static_cast<size_t>(kAttnRows * ld));
    SmallGemm(rows, keys, D, q + blk.begin * qs + h * D, qs, 1, KeyPanels(s, layout, k_panels, g, sg), D, S, ld, s.scale, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = S + r * ld;
      const int64_t len = blk.begin + r - blk.seg_begin + 1;
      const float m = Max(row, len);
      const double sum = ExpShiftSum(row, m, len);
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < len; ++j) row[j] *= inv;
      std::fill(row + len, row + keys, 0.0f);
      lse[h * T + blk.begin + r] = static_cast<float>(m + std::log(sum));
    }
    SmallGemm(rows, D, keys, S, ld, 1, DimPanels(s, layout, v_panels, g, sg), KeyLayout::Pad(blk.seg_end - blk.seg_begin), out + blk.begin * qs + h * D, qs, 1.0f, 0.0f);
  });
}

// FlashAttention-2's split: one pass where each item owns a block of keys (dK, dV summed over every
// query row that sees them), one where each item owns a block of query rows (dQ). Probabilities are
// recomputed from lse in both; no two threads ever write the same value, so the result does not
// depend on the thread count.
void AttentionBackward(Pool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, const float* out, const float* lse, const float* d_out, float* dq, float* dk, float* dv) {
  const int64_t T = s.seg.tokens(), D = s.head_dim, qs = s.heads * D, ks = s.kv_heads * D, group = s.heads / s.kv_heads, dp = KeyLayout::Pad(D);
  const int threads = ThreadsFor(pool, AttentionWork(s));
  const KeyLayout layout(s.seg);
  // delta[h, i] = dOut_i · out_i, the softmax backward's row term.
  float* delta = pool.shared(0, static_cast<size_t>(s.heads * T));
  pool.For(T, threads, [&](int64_t i, int) {
    for (int64_t h = 0; h < s.heads; ++h) delta[h * T + i] = Dot(d_out + i * qs + h * D, out + i * qs + h * D, D);
  });
  float* kt_panels = pool.shared(1, static_cast<size_t>(s.kv_heads * layout.padded * D));
  float* vt_panels = pool.shared(2, static_cast<size_t>(s.kv_heads * layout.padded * D));
  float* k_panels = pool.shared(3, static_cast<size_t>(s.kv_heads * layout.padded * dp));
  PackKeys(pool, s, layout, k, true, kt_panels, threads);
  PackKeys(pool, s, layout, v, true, vt_panels, threads);
  PackKeys(pool, s, layout, k, false, k_panels, threads);

  const std::vector<Block> key_blocks = RowBlocks(s.seg, kAttnKeys);
  pool.For(static_cast<int64_t>(key_blocks.size()) * s.kv_heads, threads, [&](int64_t item, int tid) {
    const int64_t g = item % s.kv_heads;
    const Block& blk = key_blocks[static_cast<size_t>(item / s.kv_heads)];
    const int64_t sg = blk.seg;
    const int64_t nk = blk.end - blk.begin, ld = KeyLayout::Pad(nk), first_panel = (blk.begin - blk.seg_begin) * D;
    float* P = pool.scratch(tid, 0, static_cast<size_t>(kAttnRows * ld));
    float* dP = pool.scratch(tid, 1, static_cast<size_t>(kAttnRows * ld));
    float* acc = pool.scratch(tid, 2, static_cast<size_t>(2 * kAttnKeys * D));
    float* rows_packed = pool.scratch(tid, 3, static_cast<size_t>(kAttnRows * dp));
    float* dk_acc = acc;
    float* dv_acc = acc + kAttnKeys * D;
    std::fill(acc, acc + 2 * kAttnKeys * D, 0.0f);
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      for (int64_t qb = blk.begin; qb < blk.seg_end; qb += kAttnRows) {
        const int64_t rows = std::min(kAttnRows, blk.seg_end - qb);
        const float* q_rows = q + qb * qs + h * D;
        const float* do_rows = d_out + qb * qs + h * D;
        SmallGemm(rows, nk, D, q_rows, qs, 1, KeyPanels(s, layout, kt_panels, g, sg) + first_panel, D, P, ld, s.scale, 0.0f);
        Probabilities(P, ld, rows, nk, qb, blk.begin, lse + h * T);
        SmallGemm(rows, nk, D, do_rows, qs, 1, KeyPanels(s, layout, vt_panels, g, sg) + first_panel, D, dP, ld, 1.0f, 0.0f);
        // dV += Pᵀ · dOut, then dK += scale · dSᵀ · Q (P and dS read transposed in place).
        PackPanels(do_rows, qs, 1, rows, rows, D, rows_packed);
        SmallGemm(nk, D, rows, P, 1, ld, rows_packed, rows, dv_acc, D, 1.0f, 1.0f);
        ScoreGradients(P, dP, ld, rows, nk, qb, delta + h * T);
        PackPanels(q_rows, qs, 1, rows, rows, D, rows_packed);
        SmallGemm(nk, D, rows, dP, 1, ld, rows_packed, rows, dk_acc, D, s.scale, 1.0f);
      }
    }
    for (int64_t j = 0; j < nk; ++j) {
      std::memcpy(dk + (blk.begin + j) * ks + g * D, dk_acc + j * D, sizeof(float) * D);
      std::memcpy(dv + (blk.begin + j) * ks + g * D, dv_acc + j * D, sizeof(float) * D);
    }
  });

  const std::vector<Block> row_blocks = RowBlocks(s.seg, kAttnRows);
  const int64_t nb = static_cast<int64_t>(row_blocks.size());
  pool.For(nb * s.heads, threads, [&](int64_t item, int tid) {
    const int64_t h = item % s.heads, g = h / group;
    const Block& blk = row_blocks[static_cast<size_t>(nb - 1 - item / s.heads)];
    const int64_t sg = blk.seg;
    const int64_t rows = blk.end - blk.begin, keys = blk.end - blk.seg_begin, ld = KeyLayout::Pad(keys);
    float* P = pool.scratch(tid, 0, static_cast<size_t>(kAttnRows * ld));
    float* dP = pool.scratch(tid, 1, static_cast<size_t>(kAttnRows * ld));
    SmallGemm(rows, keys, D, q + blk.begin * qs + h * D, qs, 1, KeyPanels(s, layout, kt_panels, g, sg), D, P, ld, s.scale, 0.0f);
    Probabilities(P, ld, rows, keys, blk.begin, blk.seg_begin, lse + h * T);
    SmallGemm(rows, keys, D, d_out + blk.begin * qs + h * D, qs, 1, KeyPanels(s, layout, vt_panels, g, sg), D, dP, ld, 1.0f, 0.0f);
    ScoreGradients(P, dP, ld, rows, keys, blk.begin, delta + h * T);
    SmallGemm(rows, D, keys, dP, ld, 1, DimPanels(s, layout, k_panels, g, sg), KeyLayout::Pad(blk.seg_end - blk.seg_begin), dq + blk.begin * qs + h * D, qs, s.scale, 0.0f);
  });
}

void SwigluForward(Pool& pool, const float* gate, const float* up, float* out, int64_t n) {
  constexpr int64_t chunk = 1 << 14;
  pool.For((n + chunk - 1) / chunk, ThreadsFor(pool, static_cast<double>(n) * 8), [&](int64_t c, int) {
    int64_t i = c * chunk;
    const int64_t end = std::min(n, i + chunk);
#ifdef RK_AVX2
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= end; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i);
      const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, Exp(_mm256_sub_ps(_mm256_setzero_ps(), g))));
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < end; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  });
}

void SwigluBackward(Pool& pool, const float* gate, const float* up, const float* d_out, float* d_gate, float* d_up, int64_t n) {
  constexpr int64_t chunk = 1 << 14;
  pool.For((n + chunk - 1) / chunk, ThreadsFor(pool, static_cast<double>(n) * 12), [&](int64_t c, int) {
    int64_t i = c * chunk;
    const int64_t end = std::min(n, i + chunk);
#ifdef RK_AVX2
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= end; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i), dy = _mm256_loadu_ps(d_out + i);
      const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, Exp(_mm256_sub_ps(_mm256_setzero_ps(), g))));
      // d silu/dg = sig · (1 + g · (1 − sig))
      const __m256 dsilu = _mm256_mul_ps(sig, _mm256_fmadd_ps(g, _mm256_sub_ps(one, sig), one));
      _mm256_storeu_ps(d_gate + i, _mm256_mul_ps(_mm256_mul_ps(dy, u), dsilu));
      _mm256_storeu_ps(d_up + i, _mm256_mul_ps(dy, _mm256_mul_ps(g, sig)));
    }
#endif
    for (; i < end; ++i) {
      const float g = gate[i], sig = 1.0f / (1.0f + std::exp(-g)), dy = d_out[i];
      const float dg = dy * up[i] * sig * (1.0f + g * (1.0f - sig));
      const float du = dy * g * sig;
      d_gate[i] = dg;
      d_up[i] = du;
    }
  });
}

double CrossEntropy(Pool& pool, float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float scale) {
  std::vector<double> losses(static_cast<size_t>(rows), 0.0);
  pool.For(rows, ThreadsFor(pool, static_cast<double>(rows * vocab) * 4), [&](int64_t r, int) {
    float* row = logits + r * vocab;
    const int32_t t = targets[r];
    if (t < 0) {
      std::fill(row, row + vocab, 0.0f);
      return;
    }
    const float target_logit = row[t];
    const float m = Max(row, vocab);
    const double sum = ExpShiftSum(row, m, vocab);
    losses[static_cast<size_t>(r)] = static_cast<double>(m) + std::log(sum) - static_cast<double>(target_logit);
    const float inv = static_cast<float>(scale / sum);
    for (int64_t j = 0; j < vocab; ++j) row[j] *= inv;
    row[t] -= scale;
  });
  double total = 0;
  for (double l : losses) total += l;
  return total;
}

}  // namespace rk
