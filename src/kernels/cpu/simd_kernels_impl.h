#pragma once
// The SIMD kernels written once against Vec16 (see simd_vec16.h); each
// simd_<isa>.cpp defines ARLE_SIMD_NAMESPACE and the ISA macro, includes
// this header and exports the table. MR x NR is the register tile of
// dot_rows: MR rows of x against NR rows of w, one Vec16 accumulator each.

#include "kernels/cpu/simd_kernels.h"
#include "kernels/cpu/simd_vec16.h"

namespace arle::kernels::cpu::ARLE_SIMD_NAMESPACE {

template <int MR, int NR>
void dot_tile(const float* x, std::int64_t ldx, const float* w, std::int64_t ldw, std::int64_t k, float* out,
              std::int64_t ldo) {
  Vec16 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = Vec16::zero();
  std::int64_t p = 0;
  for (; p + 16 <= k; p += 16) {
    Vec16 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = Vec16::load(w + j * ldw + p);
    for (int i = 0; i < MR; ++i) {
      Vec16 xv = Vec16::load(x + i * ldx + p);
      for (int j = 0; j < NR; ++j) acc[i][j] = fmadd(xv, wv[j], acc[i][j]);
    }
  }
  if (p < k) {
    const std::int64_t tail = k - p;
    Vec16 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = Vec16::load_partial(w + j * ldw + p, tail);
    for (int i = 0; i < MR; ++i) {
      Vec16 xv = Vec16::load_partial(x + i * ldx + p, tail);
      for (int j = 0; j < NR; ++j) acc[i][j] = fmadd(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * ldo + j] = acc[i][j].reduce();
}

// Rows of x in groups of MR (then singly), columns in groups of NR (then
// singly). Every output element goes through the same lane pattern, so the
// tile it lands in does not change its value.
template <int MR, int NR>
void dot_rows_tiled(const float* x, std::int64_t ldx, std::int64_t m, const float* w, std::int64_t ldw,
                    std::int64_t n, std::int64_t k, float* out, std::int64_t ldo) {
  std::int64_t i = 0;
  for (; i + MR <= m; i += MR) {
    std::int64_t j = 0;
    for (; j + NR <= n; j += NR) dot_tile<MR, NR>(x + i * ldx, ldx, w + j * ldw, ldw, k, out + i * ldo + j, ldo);
    for (; j < n; ++j) dot_tile<MR, 1>(x + i * ldx, ldx, w + j * ldw, ldw, k, out + i * ldo + j, ldo);
  }
  for (; i < m; ++i) {
    std::int64_t j = 0;
    for (; j + NR <= n; j += NR) dot_tile<1, NR>(x + i * ldx, ldx, w + j * ldw, ldw, k, out + i * ldo + j, ldo);
    for (; j < n; ++j) dot_tile<1, 1>(x + i * ldx, ldx, w + j * ldw, ldw, k, out + i * ldo + j, ldo);
  }
}

inline float dot(const float* a, const float* b, std::int64_t n) {
  float out;
  dot_tile<1, 1>(a, 0, b, 0, n, &out, 0);
  return out;
}

inline void axpy(float a, const float* x, float* y, std::int64_t n) {
  const Vec16 av = Vec16::broadcast(a);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) fmadd(av, Vec16::load(x + i), Vec16::load(y + i)).store(y + i);
  if (i < n) fmadd(av, Vec16::load_partial(x + i, n - i), Vec16::load_partial(y + i, n - i)).store_partial(y + i, n - i);
}

// Walks the sequence page by page (no division per position). The V sum
// keeps each 16-wide block of the output in a register across positions:
// the same fused multiply-adds in the same order as axpy into memory.
inline void attend(const AttendArgs& a) {
  const std::int64_t n = a.context_len;
  float max_score = -__builtin_inff();
  for (std::int64_t start = 0, page = 0; start < n; start += a.page_size, ++page) {
    const float* k = a.k_cache + static_cast<std::int64_t>(a.pages[page]) * a.page_size * a.kv_width;
    const std::int64_t count = n - start < a.page_size ? n - start : a.page_size;
    for (std::int64_t i = 0; i < count; ++i) {
      const float s = dot(a.q, k + i * a.kv_width, a.head_dim) * a.scale;
      a.scores[start + i] = s;
      if (s > max_score) max_score = s;
    }
  }
  float sum = 0.0f;
  for (std::int64_t t = 0; t < n; ++t) {
    a.scores[t] = __builtin_expf(a.scores[t] - max_score);
    sum += a.scores[t];
  }
  const float inv = 1.0f / sum;
  for (std::int64_t d = 0; d < a.head_dim; d += 16) {
    const std::int64_t width = a.head_dim - d < 16 ? a.head_dim - d : 16;
    Vec16 acc = Vec16::zero();
    for (std::int64_t start = 0, page = 0; start < n; start += a.page_size, ++page) {
      const float* v = a.v_cache + static_cast<std::int64_t>(a.pages[page]) * a.page_size * a.kv_width + d;
      const std::int64_t count = n - start < a.page_size ? n - start : a.page_size;
      if (width == 16) {
        for (std::int64_t i = 0; i < count; ++i) acc = fmadd(Vec16::broadcast(a.scores[start + i]), Vec16::load(v + i * a.kv_width), acc);
      } else {
        for (std::int64_t i = 0; i < count; ++i) {
          acc = fmadd(Vec16::broadcast(a.scores[start + i]), Vec16::load_partial(v + i * a.kv_width, width), acc);
        }
      }
    }
    alignas(64) float block[16];
    acc.store(block);
    for (std::int64_t i = 0; i < width; ++i) a.out[d + i] = block[i] * inv;
  }
}

}  // namespace arle::kernels::cpu::ARLE_SIMD_NAMESPACE
