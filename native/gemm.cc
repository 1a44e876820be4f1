// Single-precision GEMM in the BLIS layout: op(B) is packed into KC×NR micro-panels shared by all
// threads, each work item packs its own block of op(A) rows into MR×KC micro-panels, and a register
// micro-kernel multiplies one A micro-panel by one B micro-panel into an MR×NR tile of C. Packing
// absorbs every transpose combination, so one micro-kernel serves all four. Skinny products (LoRA's
// rank 16) skip the packing that would not pay for itself. Every C value is summed in the same
// order whatever the thread count, so results are bit-identical across thread counts.
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "simd.h"

namespace rk {
namespace {

constexpr int64_t MR = 6;
constexpr int64_t NR = kPanel;
constexpr int64_t KC = 320;   // a B micro-panel (KC·NR floats, 20 KiB) and an A one (7.5 KiB) fit L1
constexpr int64_t MC = 144;   // an A block (MC·KC floats, 180 KiB) stays in L2
constexpr int64_t NC = 3072;  // the packed B block (KC·NC floats, 3.75 MiB) is shared through L3
// A work item with at most this many column panels reads op(A) in place instead of packing it.
constexpr int64_t kUnpackedPanels = 4;
// With at most this many row tiles in all, an untransposed B is read in place instead of packed.
constexpr int64_t kInPlaceBTiles = 4;

// Writes an MR×NR tile (row stride NR) into C with C = alpha·tile + beta·C; beta 0 never reads C.
void StoreEdge(const float* tile, float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
  for (int64_t r = 0; r < mr; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < nr; ++j) {
      const float v = alpha * tile[r * NR + j];
      row[j] = beta == 0.0f ? v : v + beta * row[j];
    }
  }
}

#ifdef RK_AVX2
inline void StoreRow(float* c, __m256 x0, __m256 x1, __m256 alpha, float beta) {
  x0 = _mm256_mul_ps(x0, alpha);
  x1 = _mm256_mul_ps(x1, alpha);
  if (beta != 0.0f) {
    const __m256 b = _mm256_set1_ps(beta);
    x0 = _mm256_fmadd_ps(b, _mm256_loadu_ps(c), x0);
    x1 = _mm256_fmadd_ps(b, _mm256_loadu_ps(c + 8), x1);
  }
  _mm256_storeu_ps(c, x0);
  _mm256_storeu_ps(c + 8, x1);
}

// 6×16 tile: 12 accumulators, 2 B vectors and 1 broadcast A value fill the 16 ymm registers.
// A is a packed micro-panel (kPacked: row r, step p at a[p·MR + r]) or op(A) read in place (row r,
// step p at a[r·rs + p·cs]); in place, rows past mr re-read row mr − 1 and their sums are dropped.
// B is a packed micro-panel (kPackedB: step p at b[p·NR]) or 16 full columns of an untransposed B
// read in place (step p at b[p·ldb]).
template <bool kPacked, bool kPackedB = true>
void MicroKernel(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  if constexpr (kPacked) {
    rs = 1;
    cs = MR;
  }
  if constexpr (kPackedB) ldb = NR;
  const int64_t o1 = kPacked ? 1 : std::min<int64_t>(1, mr - 1) * rs, o2 = kPacked ? 2 : std::min<int64_t>(2, mr - 1) * rs;
  const int64_t o3 = kPacked ? 3 : std::min<int64_t>(3, mr - 1) * rs, o4 = kPacked ? 4 : std::min<int64_t>(4, mr - 1) * rs;
  const int64_t o5 = kPacked ? 5 : std::min<int64_t>(5, mr - 1) * rs;
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = kPackedB ? _mm256_load_ps(b) : _mm256_loadu_ps(b);
    const __m256 b1 = kPackedB ? _mm256_load_ps(b + 8) : _mm256_loadu_ps(b + 8);
    __m256 x = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + o1);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + o2);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + o3);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + o4);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + o5);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
    a += cs;
    b += ldb;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (mr == MR && nr == NR) {
    StoreRow(c, c00, c01, va, beta);
    StoreRow(c + ldc, c10, c11, va, beta);
    StoreRow(c + 2 * ldc, c20, c21, va, beta);
    StoreRow(c + 3 * ldc, c30, c31, va, beta);
    StoreRow(c + 4 * ldc, c40, c41, va, beta);
    StoreRow(c + 5 * ldc, c50, c51, va, beta);
    return;
  }
  alignas(32) float tile[MR * NR];
  __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < 12; ++i) _mm256_store_ps(tile + 8 * i, acc[i]);
  StoreEdge(tile, c, ldc, mr, nr, alpha, beta);
}

// C's rows are far apart (ldc floats) and a large C comes from memory: fetching the next tile while
// the current one computes hides that latency.
inline void PrefetchTile(const float* c, int64_t ldc, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + NR - 1), _MM_HINT_T0);
  }
}

// 8×8 transpose: src rows (stride lds) become dst columns (stride ldd).
inline void Transpose8x8(const float* src, int64_t lds, float* dst, int64_t ldd) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5), t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE), s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}
#else
inline void PrefetchTile(const float*, int64_t, int64_t) {}

template <bool kPacked, bool kPackedB = true>
void MicroKernel(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
  if constexpr (kPacked) {
    rs = 1;
    cs = MR;
  }
  if constexpr (kPackedB) ldb = NR;
  float tile[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p, a += cs, b += ldb) {
    for (int64_t r = 0; r < MR; ++r) {
      const float x = a[std::min(r, mr - 1) * rs];
      for (int64_t j = 0; j < NR; ++j) tile[r * NR + j] += x * b[j];
    }
  }
  StoreEdge(tile, c, ldc, mr, nr, alpha, beta);
}
#endif

// op(A)[i0 .. i0+mc) × [p0 .. p0+kc) → micro-panels of MR rows, k-major, rows past mc zero.
void PackA(const GemmArgs& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += MR, dst += kc * MR) {
    const int64_t mr = std::min(MR, mc - ir);
    const int64_t row = i0 + ir;
    if (!g.trans_a) {
      for (int64_t r = 0; r < MR; ++r) {
        if (r >= mr) {
          for (int64_t p = 0; p < kc; ++p) dst[p * MR + r] = 0.0f;
          continue;
        }
        const float* src = g.a + (row + r) * g.k + p0;
        for (int64_t p = 0; p < kc; ++p) dst[p * MR + r] = src[p];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.a + (p0 + p) * g.m + row;
        for (int64_t r = 0; r < MR; ++r) dst[p * MR + r] = r < mr ? src[r] : 0.0f;
      }
    }
  }
}

// Rows [p_begin, p_end) of the block op(B)[pc .. pc+kc) × [jc .. jc+nc) with B untransposed (k×n,
// rows contiguous) → the same rows of every micro-panel of the block.
void PackBRows(const GemmArgs& g, int64_t pc, int64_t p_begin, int64_t p_end, int64_t kc, int64_t jc, int64_t nc, float* dst) {
  for (int64_t p = p_begin; p < p_end; ++p) {
    const float* src = g.b + (pc + p) * g.n + jc;
    for (int64_t j = 0; j < nc; j += NR) {
      float* d = dst + (j / NR) * kc * NR + p * NR;
      const int64_t nr = std::min(NR, nc - j);
      std::memcpy(d, src + j, sizeof(float) * nr);
      for (int64_t q = nr; q < NR; ++q) d[q] = 0.0f;
    }
  }
}

// op(B)[p0 .. p0+kc) × [j0 .. j0+nr) → one micro-panel of NR columns, k-major, columns past nr zero.
void PackB(const GemmArgs& g, int64_t p0, int64_t kc, int64_t j0, int64_t nr, float* dst) {
  if (!g.trans_b) {
    PackBRows(g, p0, 0, kc, kc, j0, nr, dst);
    return;
  }
  int64_t p = 0;
#ifdef RK_AVX2
  if (nr == NR) {
    for (; p + 8 <= kc; p += 8) {
      Transpose8x8(g.b + j0 * g.k + p0 + p, g.k, dst + p * NR, NR);
      Transpose8x8(g.b + (j0 + 8) * g.k + p0 + p, g.k, dst + p * NR + 8, NR);
    }
  }
#endif
  for (int64_t j = 0; j < NR; ++j) {
    if (j >= nr) {
      for (int64_t q = p; q < kc; ++q) dst[q * NR + j] = 0.0f;
      continue;
    }
    const float* src = g.b + (j0 + j) * g.k + p0;
    for (int64_t q = p; q < kc; ++q) dst[q * NR + j] = src[q];
  }
}

// How one block of C (all rows × one NC-wide block of columns) is cut into work items: row chunks of
// whole tiles × column chunks of whole panels. Threads take items from a shared counter, so a thread
// slowed down by another process (a shared machine) simply takes fewer; a chunk of rows is packed
// once per item.
struct Plan {
  int64_t tiles_per_item, panels_per_item, row_items, col_items;
};

Plan MakePlan(int threads, int64_t tiles_m, int64_t panels) {
  constexpr int64_t max_tiles = MC / MR;
  if (threads == 1) {
    const int64_t t = std::min(tiles_m, max_tiles);
    return {t, panels, (tiles_m + t - 1) / t, 1};
  }
  const int64_t target = 4 * threads;  // enough items for balance, few enough to reuse each B panel
  const int64_t t = std::clamp<int64_t>((tiles_m + target - 1) / target, 1, max_tiles);
  const int64_t row_items = (tiles_m + t - 1) / t;
  int64_t col_items = row_items >= target ? 1 : std::min(panels, (target + row_items - 1) / row_items);
  const int64_t p = (panels + col_items - 1) / col_items;
  col_items = (panels + p - 1) / p;
  return {t, p, row_items, col_items};
}

void ScaleC(Pool& pool, const GemmArgs& g) {
  pool.For(g.m, g.m * g.n > (1 << 16) ? pool.size() : 1, [&](int64_t i, int) {
    float* row = g.c + i * g.n;
    if (g.beta == 0.0f) std::fill(row, row + g.n, 0.0f);
    else if (g.beta != 1.0f) for (int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
  });
}

}  // namespace

void PackPanels(const float* src, int64_t sp, int64_t sj, int64_t kdim, int64_t kpad, int64_t n, float* dst) {
  for (int64_t j0 = 0; j0 < n; j0 += NR, dst += kpad * NR) {
    const int64_t nr = std::min(NR, n - j0);
    for (int64_t p = 0; p < kpad; ++p) {
      float* d = dst + p * NR;
      int64_t j = 0;
      if (p < kdim) for (; j < nr; ++j) d[j] = src[p * sp + (j0 + j) * sj];
      for (; j < NR; ++j) d[j] = 0.0f;
    }
  }
}

void SmallGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs, int64_t cs, const float* b, int64_t kpad, float* c, int64_t ldc, float alpha, float beta) {
  for (int64_t i = 0; i < m; i += MR) {
    for (int64_t j = 0; j < n; j += NR) {
      MicroKernel<false>(k, a + i * rs, rs, cs, b + (j / NR) * kpad * NR, NR, c + i * ldc + j, ldc, std::min(MR, m - i), std::min(NR, n - j), alpha, beta);
    }
  }
}

void Sgemm(Pool& pool, const GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0 || g.alpha == 0.0f) {
    ScaleC(pool, g);
    return;
  }
  // Below ~2 MFLOP a dispatch costs more than it saves.
  const int threads = 2.0 * g.m * g.n * g.k < 2e6 ? 1 : pool.size();
  // Even K blocks: K = 576 runs as 2 × 288 rather than 320 + 256.
  const int64_t k_blocks = (g.k + KC - 1) / KC;
  const int64_t kc_max = (g.k + k_blocks - 1) / k_blocks;
  const int64_t tiles_m = (g.m + MR - 1) / MR;
  // Few rows (LoRA's rank-16 weight gradient): each B panel would serve one or two tiles, so an
  // untransposed B is read in place and only a last, partial panel is packed.
  const bool in_place_b = !g.trans_b && tiles_m <= kInPlaceBTiles;
  float* b_pack = in_place_b ? nullptr : pool.shared(0, static_cast<size_t>(kc_max) * ((std::min(NC, g.n) + NR - 1) / NR) * NR);
  for (int64_t jc = 0; jc < g.n; jc += NC) {
    const int64_t nc = std::min(NC, g.n - jc);
    const int64_t panels = (nc + NR - 1) / NR;
    const Plan plan = MakePlan(threads, tiles_m, panels);
    for (int64_t pc = 0; pc < g.k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, g.k - pc);
      const float beta = pc == 0 ? g.beta : 1.0f;
      if (g.trans_b) {
        pool.For(panels, threads, [&](int64_t panel, int) { PackB(g, pc, kc, jc + panel * NR, std::min(NR, nc - panel * NR), b_pack + panel * kc * NR); });
      } else if (!in_place_b) {
        // Untransposed B is packed a few whole rows per item: each row of B is read once, contiguously.
        constexpr int64_t rows = 16;
        pool.For((kc + rows - 1) / rows, threads, [&](int64_t item, int) { PackBRows(g, pc, item * rows, std::min(kc, (item + 1) * rows), kc, jc, nc, b_pack); });
      }
      pool.For(plan.row_items * plan.col_items, threads, [&](int64_t item, int tid) {
        const int64_t ri = item / plan.col_items, ci = item % plan.col_items;
        const int64_t i_begin = ri * plan.tiles_per_item * MR, i_end = std::min(g.m, (ri + 1) * plan.tiles_per_item * MR);
        const int64_t p_begin = ci * plan.panels_per_item, p_end = std::min(panels, (ci + 1) * plan.panels_per_item);
        const int64_t mc = i_end - i_begin;
        if (!in_place_b && p_end - p_begin <= kUnpackedPanels) {
          // Few columns (LoRA's rank-16 products): packing A would cost as much as using it, so
          // each 6-row strip of op(A) is read in place and stays in L1 across the panels.
          const int64_t rs = g.trans_a ? 1 : g.k, cs = g.trans_a ? g.m : 1;
          for (int64_t i = i_begin; i < i_end; i += MR) {
            const float* a = g.a + i * rs + pc * cs;
            for (int64_t panel = p_begin; panel < p_end; ++panel) {
              const int64_t j = jc + panel * NR;
              MicroKernel<false>(kc, a, rs, cs, b_pack + panel * kc * NR, NR, g.c + i * g.n + j, g.n, std::min(MR, i_end - i), std::min(NR, g.n - j), g.alpha, beta);
            }
          }
          return;
        }
        float* a_pack = pool.scratch(tid, 0, static_cast<size_t>(MC) * kc_max);
        PackA(g, i_begin, mc, pc, kc, a_pack);
        float* edge = in_place_b ? pool.scratch(tid, 1, static_cast<size_t>(NR) * kc_max) : nullptr;
        for (int64_t panel = p_begin; panel < p_end; ++panel) {
          const int64_t j = jc + panel * NR;
          const int64_t nr = std::min(NR, g.n - j);
          float* c = g.c + i_begin * g.n + j;
          if (in_place_b && nr == NR) {
            for (int64_t ir = 0; ir < mc; ir += MR) {
              MicroKernel<true, false>(kc, a_pack + ir * kc, 0, 0, g.b + pc * g.n + j, g.n, c + ir * g.n, g.n, std::min(MR, mc - ir), nr, g.alpha, beta);
            }
            continue;
          }
          const float* bp = b_pack ? b_pack + panel * kc * NR : edge;
          if (in_place_b) PackB(g, pc, kc, j, nr, edge);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            PrefetchTile(c + (ir + MR) * g.n, g.n, std::min(MR, mc - ir - MR));
            MicroKernel<true>(kc, a_pack + ir * kc, 0, 0, bp, NR, c + ir * g.n, g.n, std::min(MR, mc - ir), nr, g.alpha, beta);
          }
        }
      });
    }
  }
}

}  // namespace rk
