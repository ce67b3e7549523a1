// The chunked (UT-transform) form of the gated delta rule on the GPU, for
// sequences of two rows or more (prefill). The math and its order of
// operations are the CPU's (kernels/cpu/gated_delta_rule.h):
// each sequence's rows are cut into chunks of 64 from its first row in the
// step, and per chunk, with G the cumulative log-decay from the chunk's start
// and S0 the state before it,
//   T  = (I + B)^-1,   B[i][m] = beta_i exp(G_i - G_m) k_i . k_m  (m < i)
//   W  = T diag(beta exp G) K,   U = T diag(beta) V
//   P[i][j] = exp(G_i - G_j) q_i . k_j  (j <= i)
//   Q~ = diag(exp G) Q,   K~ = diag(exp(G_last - G)) K
//   V' = U - W S0
//   O  = Q~ S0 + P V'
//   S  = exp(G_last) S0 + K~^T V'
// Two launches:
//  1. prepare, a block per (sequence, chunk, value head), all in parallel:
//     G, T (a thread per column, forward substitution in registers), then
//     W, U, P, Q~, K~ and G into scratch, 16-byte aligned;
//  2. state, a block per (sequence, value head, tile of 32 value columns),
//     sequential over the sequence's chunks: V', O and the state update,
//     the state's tile in shared memory throughout. Its inputs arrive by
//     cp.async in three groups (W and U, Q~ and P, K~ and G), each loading
//     the next chunk's while the other two parts of this one compute.
// Float32 on the CUDA cores (register tiles fed by 16-byte shared loads),
// like the recurrent kernel, so both stay within float32 rounding of the
// CPU.
#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/tensor_core.cuh"

namespace arle::kernels::cuda {
namespace {

constexpr int kChunk = kDeltaRuleChunk;
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTileColumns = 32;                            // value columns per state block (a lane each)
constexpr int kRowsPerWarp = kChunk / kWarps;               // parts a and b: chunk rows 8w .. 8w + 7
constexpr int kKeysPerWarp = kDeltaRuleMaxKeyDim / kWarps;  // part c: state rows 16w .. 16w + 15

cudaStream_t as_stream(CUstream_st* s) { return reinterpret_cast<cudaStream_t>(s); }

int round4(int x) { return (x + 3) / 4 * 4; }

// A (row, value head)'s block of scratch: [W dk | Q~ dk | K~ dk | U dv (to a
// multiple of 4) | P 64 | G (and 3 floats of padding)], every piece 16-byte
// aligned when the row width and key_dim are multiples of 4.
struct Scratch {
  float* base;
  std::int64_t width;  // floats a row: value_heads blocks
  int key_dim, value_dim, block;
  __device__ float* at(std::int64_t t, int h) const { return base + t * width + static_cast<std::int64_t>(h) * block; }
  __device__ float* w(std::int64_t t, int h) const { return at(t, h); }
  __device__ float* q(std::int64_t t, int h) const { return at(t, h) + key_dim; }
  __device__ float* k(std::int64_t t, int h) const { return at(t, h) + 2 * key_dim; }
  __device__ float* u(std::int64_t t, int h) const { return at(t, h) + 3 * key_dim; }
  __device__ float* p(std::int64_t t, int h) const { return at(t, h) + 3 * key_dim + (value_dim + 3) / 4 * 4; }
  __device__ float* g(std::int64_t t, int h) const { return p(t, h) + kChunk; }
};

Scratch make_scratch(float* base, std::int64_t value_heads, std::int64_t key_dim, std::int64_t value_dim) {
  const int block = 3 * static_cast<int>(key_dim) + round4(static_cast<int>(value_dim)) + kChunk + 4;
  return {base, value_heads * block, static_cast<int>(key_dim), static_cast<int>(value_dim), block};
}

// mixed (after gdn_gates): [q heads | k heads | v heads] a row.
struct Mixed {
  const float* base;
  std::int64_t ld;
  int key_heads, key_dim, value_dim;
  __device__ const float* q(std::int64_t t, int kh) const {
    return base + t * ld + static_cast<std::int64_t>(kh) * key_dim;
  }
  __device__ const float* k(std::int64_t t, int kh) const {
    return base + t * ld + static_cast<std::int64_t>(key_heads + kh) * key_dim;
  }
  __device__ const float* v(std::int64_t t, int h) const {
    return base + t * ld + 2 * static_cast<std::int64_t>(key_heads) * key_dim +
           static_cast<std::int64_t>(h) * value_dim;
  }
};

__device__ __forceinline__ float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ void store4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }

// rows [0, n) x cols [0, width) of a row-major source (row stride ld, any
// alignment) into shared dst (row stride kPrepareLd); rows n..63 become zeros.
// Eight loads in flight a thread.
constexpr int kPrepareLd = kDeltaRuleMaxKeyDim + 4;  // 16-byte rows; 8 rows of a float4 phase hit distinct banks
constexpr int kTriangleLd = kChunk + 1;

__device__ __forceinline__ void load_rows(float* dst, const float* src, std::int64_t ld, int n, int width) {
  const int total = kChunk * width;
  for (int e0 = threadIdx.x; e0 < total; e0 += kThreads * 8) {
    float v[8];
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int e = e0 + u * kThreads, i = e / width, a = e % width;
      v[u] = e < total && i < n ? src[i * ld + a] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int e = e0 + u * kThreads;
      if (e < total) dst[(e / width) * kPrepareLd + e % width] = v[u];
    }
  }
}

// out[i][a..a+3] for rows i = 4 * row_quad + r and the 4 columns of column
// quad `quad`: sum over j < n of coef(i, j) * X[j][a..a+3].
template <typename Coef>
__device__ __forceinline__ void tile_product(const float* X, int row_quad, int quad, int n, const Coef& coef,
                                             float4 (&out)[4]) {
#pragma unroll
  for (int r = 0; r < 4; ++r) out[r] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  for (int j = 0; j < n; ++j) {
    const float4 x = load4(X + j * kPrepareLd + 4 * quad);
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const float c = coef(4 * row_quad + r, j);
      out[r].x = out[r].x + c * x.x;
      out[r].y = out[r].y + c * x.y;
      out[r].z = out[r].z + c * x.z;
      out[r].w = out[r].w + c * x.w;
    }
  }
}

constexpr std::size_t kPrepareSharedBytes =
    sizeof(float) * (2 * kChunk * kPrepareLd + 2 * kChunk * kTriangleLd + 4 * kChunk);

__global__ void __launch_bounds__(kThreads, 2) chunk_prepare_kernel(Mixed in, const float* g, const float* beta,
                                                                    int value_heads, StateRows rows, Scratch scratch) {
  extern __shared__ float4 shared4[];
  const int s = blockIdx.x, h = blockIdx.z;
  const std::int64_t begin = rows.seq_begin[s], end = rows.seq_begin[s + 1];
  const std::int64_t t0 = begin + static_cast<std::int64_t>(blockIdx.y) * kChunk;
  if (end - begin < 2 || rows.seq_slot[s] < 0 || t0 >= end) return;
  const int n = static_cast<int>(end - t0 < kChunk ? end - t0 : kChunk);
  const int kh = h / (value_heads / in.key_heads), dk = in.key_dim, dv = in.value_dim;
  float* K = reinterpret_cast<float*>(shared4);  // [64][kPrepareLd]
  float* X = K + kChunk * kPrepareLd;            // Q, then slabs of V
  float* B = X + kChunk * kPrepareLd;            // [64][65]
  float* Tb = B + kChunk * kTriangleLd;          // T diag(beta), [64][65]
  float* G = Tb + kChunk * kTriangleLd;
  float* Ge = G + kChunk;  // exp(G), 0 past n
  float* Beta = Ge + kChunk;
  float* Gn = Beta + kChunk;  // G[n - 1], broadcast
  const int tid = threadIdx.x;

  load_rows(K, in.k(t0, kh), in.ld, n, dk);
  load_rows(X, in.q(t0, kh), in.ld, n, dk);
  if (tid < kChunk) Beta[tid] = tid < n ? beta[(t0 + tid) * value_heads + h] : 0.0f;
  if (tid == 0) {  // sequentially, in the CPU's order
    float cumulative = 0.0f;
    for (int i = 0; i < kChunk; ++i) G[i] = i < n ? cumulative += g[(t0 + i) * value_heads + h] : 0.0f;
    Gn[0] = G[n - 1];
  }
  __syncthreads();
  if (tid < kChunk) Ge[tid] = tid < n ? expf(G[tid]) : 0.0f;

  // B and P in 4 x 4 register tiles: rows i = ti + 16 r, columns m = tm + 16 c
  // (the eight lanes of a 16-byte shared-load phase read eight rows of K).
  {
    const int ti = tid / 16, tm = tid % 16;
    float kk[4][4] = {}, qk[4][4] = {};
    for (int a = 0; a < dk; a += 4) {
      float4 ki[4], qi[4], km[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        ki[r] = load4(K + (ti + 16 * r) * kPrepareLd + a);
        qi[r] = load4(X + (ti + 16 * r) * kPrepareLd + a);
        km[r] = load4(K + (tm + 16 * r) * kPrepareLd + a);
      }
#pragma unroll
      for (int r = 0; r < 4; ++r) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          kk[r][c] = kk[r][c] + ki[r].x * km[c].x;
          kk[r][c] = kk[r][c] + ki[r].y * km[c].y;
          kk[r][c] = kk[r][c] + ki[r].z * km[c].z;
          kk[r][c] = kk[r][c] + ki[r].w * km[c].w;
          qk[r][c] = qk[r][c] + qi[r].x * km[c].x;
          qk[r][c] = qk[r][c] + qi[r].y * km[c].y;
          qk[r][c] = qk[r][c] + qi[r].z * km[c].z;
          qk[r][c] = qk[r][c] + qi[r].w * km[c].w;
        }
      }
    }
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int i = ti + 16 * r;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int m = tm + 16 * c;
        const float decay = m <= i && i < n ? expf(G[i] - G[m]) : 0.0f;
        B[i * kTriangleLd + m] = m < i ? Beta[i] * decay * kk[r][c] : 0.0f;
        if (i < n) scratch.p(t0 + i, h)[m] = decay * qk[r][c];  // 0 past the diagonal
      }
    }
  }
  __syncthreads();

  // T = (I + B)^-1, thread j < 64 solving column j in registers:
  // T[i][j] = [i == j] - sum_{m < i} B[i][m] T[m][j], m ascending as the CPU.
  if (tid < kChunk) {
    float x[kChunk];
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      float v = i == tid ? 1.0f : 0.0f;
#pragma unroll
      for (int m = 0; m < i; ++m) v -= B[i * kTriangleLd + m] * x[m];
      x[i] = v;
    }
    const float b = Beta[tid];
#pragma unroll
    for (int i = 0; i < kChunk; ++i) Tb[i * kTriangleLd + tid] = x[i] * b;
  }
  __syncthreads();

  // W = T diag(beta exp G) K, Q~ and K~, in 4 x 4 tiles of (rows, key quad).
  const float last = Gn[0];
  for (int tile = tid; tile < 16 * (dk / 4); tile += kThreads) {
    const int row_quad = tile / (dk / 4), quad = tile % (dk / 4);
    float4 w[4];
    tile_product(
        K, row_quad, quad, n, [&](int i, int j) { return Tb[i * kTriangleLd + j] * Ge[j]; }, w);
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int i = 4 * row_quad + r;
      if (i >= n) continue;
      store4(scratch.w(t0 + i, h) + 4 * quad, w[r]);
      const float4 q = load4(X + i * kPrepareLd + 4 * quad), k = load4(K + i * kPrepareLd + 4 * quad);
      const float e = Ge[i], d = expf(last - G[i]);
      store4(scratch.q(t0 + i, h) + 4 * quad, make_float4(e * q.x, e * q.y, e * q.z, e * q.w));
      store4(scratch.k(t0 + i, h) + 4 * quad, make_float4(d * k.x, d * k.y, d * k.z, d * k.w));
    }
  }
  if (tid < n) *scratch.g(t0 + tid, h) = G[tid];
  // U = T diag(beta) V over slabs of up to 128 columns of V in X.
  for (int c0 = 0; c0 < dv; c0 += kDeltaRuleMaxKeyDim) {
    const int width = min(kDeltaRuleMaxKeyDim, dv - c0);
    __syncthreads();  // X (Q, or the last slab) is no longer read
    load_rows(X, in.v(t0, h) + c0, in.ld, n, width);
    __syncthreads();
    for (int tile = tid; tile < 16 * (width / 4); tile += kThreads) {
      const int row_quad = tile / (width / 4), quad = tile % (width / 4);
      float4 u[4];
      tile_product(
          X, row_quad, quad, n, [&](int i, int j) { return Tb[i * kTriangleLd + j]; }, u);
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int i = 4 * row_quad + r;
        if (i < n) store4(scratch.u(t0 + i, h) + c0 + 4 * quad, u[r]);
      }
    }
  }
}

// The state kernel's shared memory: W, Q~ and K~ [64][dk]; U and V'
// [64][32]; P [64][64]; the state tile [dk][32]; G of the chunk's last row.
struct StateShared {
  float *w, *q, *k, *u, *vp, *p, *s, *g;
};
__device__ StateShared state_shared(float* base, int dk) {
  StateShared m;
  m.w = base;
  m.q = m.w + kChunk * dk;
  m.k = m.q + kChunk * dk;
  m.u = m.k + kChunk * dk;
  m.vp = m.u + kChunk * kTileColumns;
  m.p = m.vp + kChunk * kTileColumns;
  m.s = m.p + kChunk * kChunk;
  m.g = m.s + dk * kTileColumns;
  return m;
}
std::size_t state_shared_bytes(int dk) {
  return sizeof(float) * (3 * kChunk * dk + 2 * kChunk * kTileColumns + kChunk * kChunk + dk * kTileColumns + 4);
}

// cp.async copies of `floats4` 16-byte pieces a row for rows [0, n) (rows n..63 zero-filled).
__device__ __forceinline__ void copy_rows(float* dst, int dst_ld, const Scratch& sc, std::int64_t t0, int h, int n,
                                          int offset, int pieces) {
  for (int e = threadIdx.x; e < kChunk * pieces; e += kThreads) {
    const int i = e / pieces, c = e % pieces;
    const float* src = sc.at(t0 + (i < n ? i : 0), h) + offset + 4 * c;
    copy16_async(dst + i * dst_ld + 4 * c, src, i < n);
  }
}

// acc[r] += sign * A[row r] . B[:, lane] for the warp's rows r, over
// count (a multiple of 4) entries in ascending order, as the CPU sums.
// A's rows are lda apart; B is [count][kTileColumns]. sign is +1 or -1,
// so the products are exact negations.
__device__ __forceinline__ void accumulate_rows_times_column(const float* A, int lda, const float* B, int count,
                                                             float sign, int warp, int lane,
                                                             float (&acc)[kRowsPerWarp]) {
  for (int a = 0; a < count; a += 4) {
    const float b0 = B[a * kTileColumns + lane], b1 = B[(a + 1) * kTileColumns + lane];
    const float b2 = B[(a + 2) * kTileColumns + lane], b3 = B[(a + 3) * kTileColumns + lane];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const float4 x = load4(A + (warp * kRowsPerWarp + r) * lda + a);
      acc[r] = acc[r] + (sign * x.x) * b0;
      acc[r] = acc[r] + (sign * x.y) * b1;
      acc[r] = acc[r] + (sign * x.z) * b2;
      acc[r] = acc[r] + (sign * x.w) * b3;
    }
  }
}

__global__ void __launch_bounds__(kThreads, 1)
    chunk_state_kernel(int value_heads, StateRows rows, Scratch sc, float* state, float* out, std::int64_t ldo) {
  extern __shared__ float4 shared4[];
  const int s = blockIdx.x, h = blockIdx.y, col0 = blockIdx.z * kTileColumns;
  const std::int64_t begin = rows.seq_begin[s], end = rows.seq_begin[s + 1];
  if (end - begin < 2) return;
  const int dk = sc.key_dim, dv = sc.value_dim;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int col = col0 + lane;
  const bool active = col < dv;
  if (rows.seq_slot[s] < 0) {  // padding rows: zeros, no state
    for (std::int64_t t = begin + warp; t < end; t += kWarps) {
      if (active) out[t * ldo + static_cast<std::int64_t>(h) * dv + col] = 0.0f;
    }
    return;
  }
  const StateShared m = state_shared(reinterpret_cast<float*>(shared4), dk);
  const int u_offset = 3 * dk + col0, u_pieces = kTileColumns / 4;
  const int p_offset = 3 * dk + (dv + 3) / 4 * 4, g_offset = p_offset + kChunk;
  auto chunk_rows = [&](std::int64_t t0) { return static_cast<int>(end - t0 < kChunk ? end - t0 : kChunk); };
  // The three groups of a chunk's inputs; an empty group past the last chunk
  // keeps the count of groups in flight the same.
  auto load_w = [&](std::int64_t t0) {
    if (t0 < end) {
      const int n = chunk_rows(t0);
      copy_rows(m.w, dk, sc, t0, h, n, 0, dk / 4);
      copy_rows(m.u, kTileColumns, sc, t0, h, n, u_offset, u_pieces);  // past dv: P's floats, never stored
    }
    commit_async();
  };
  auto load_q = [&](std::int64_t t0) {
    if (t0 < end) {
      const int n = chunk_rows(t0);
      copy_rows(m.q, dk, sc, t0, h, n, dk, dk / 4);
      copy_rows(m.p, kChunk, sc, t0, h, n, p_offset, kChunk / 4);
    }
    commit_async();
  };
  auto load_k = [&](std::int64_t t0) {
    if (t0 < end) {
      const int n = chunk_rows(t0);
      copy_rows(m.k, dk, sc, t0, h, n, 2 * dk, dk / 4);
      if (threadIdx.x == 0) copy16_async(m.g, sc.at(t0 + n - 1, h) + g_offset, true);
    }
    commit_async();
  };
  load_w(begin);
  load_q(begin);
  load_k(begin);
  float* S_global = state + (static_cast<std::int64_t>(rows.seq_slot[s]) * value_heads + h) * dk * dv;
  for (int e = tid; e < dk * kTileColumns; e += kThreads) {
    const int a = e / kTileColumns, j = e % kTileColumns;
    m.s[e] = col0 + j < dv ? S_global[static_cast<std::int64_t>(a) * dv + col0 + j] : 0.0f;
  }

  for (std::int64_t t0 = begin; t0 < end; t0 += kChunk) {
    const int n = chunk_rows(t0);
    const std::int64_t next = t0 + kChunk;
    float acc[kRowsPerWarp];

    // a. V' = U - W S0 (key order ascending, as the CPU).
    wait_async<2>();
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) acc[r] = m.u[(warp * kRowsPerWarp + r) * kTileColumns + lane];
    accumulate_rows_times_column(m.w, dk, m.s, dk, -1.0f, warp, lane, acc);
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int i = warp * kRowsPerWarp + r;  // rows past n are zero (W and U were zero-filled)
      m.vp[i * kTileColumns + lane] = acc[r];
    }
    __syncthreads();
    load_w(next);

    // b. O = Q~ S0 + P V'.
    wait_async<2>();
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) acc[r] = 0.0f;
    accumulate_rows_times_column(m.q, dk, m.s, dk, 1.0f, warp, lane, acc);
    // P is 0 past the diagonal and V' past n; n rounded up to 4 reads zeros.
    accumulate_rows_times_column(m.p, kChunk, m.vp, (n + 3) / 4 * 4, 1.0f, warp, lane, acc);
    if (active) {
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const int i = warp * kRowsPerWarp + r;
        if (i < n) out[(t0 + i) * ldo + static_cast<std::int64_t>(h) * dv + col] = acc[r];
      }
    }
    __syncthreads();
    load_q(next);

    // c. S = exp(G_last) S0 + K~^T V'; warp w owns state rows [16w, 16w + 16).
    wait_async<2>();
    __syncthreads();
    const int a0 = warp * kKeysPerWarp;
    if (a0 < dk) {
      const float keep = expf(m.g[0]);
      float column[kKeysPerWarp];
#pragma unroll
      for (int r = 0; r < kKeysPerWarp; ++r)
        column[r] = a0 + r < dk ? keep * m.s[(a0 + r) * kTileColumns + lane] : 0.0f;
      for (int j = 0; j < n; ++j) {
        const float v = m.vp[j * kTileColumns + lane];
#pragma unroll
        for (int r = 0; r < kKeysPerWarp; r += 4) {
          if (a0 + r < dk) {
            const float4 k = load4(m.k + j * dk + a0 + r);
            column[r] = column[r] + k.x * v;
            column[r + 1] = column[r + 1] + k.y * v;
            column[r + 2] = column[r + 2] + k.z * v;
            column[r + 3] = column[r + 3] + k.w * v;
          }
        }
      }
#pragma unroll
      for (int r = 0; r < kKeysPerWarp; ++r) {
        if (a0 + r < dk) m.s[(a0 + r) * kTileColumns + lane] = column[r];
      }
    }
    __syncthreads();
    load_k(next);
  }
  wait_async<0>();
  for (int e = tid; e < dk * kTileColumns; e += kThreads) {
    const int a = e / kTileColumns, j = e % kTileColumns;
    if (col0 + j < dv) S_global[static_cast<std::int64_t>(a) * dv + col0 + j] = m.s[e];
  }
}

}  // namespace

std::int64_t delta_rule_scratch_width(std::int64_t value_heads, std::int64_t key_dim, std::int64_t value_dim) {
  return make_scratch(nullptr, value_heads, key_dim, value_dim).width;
}

void launch_gated_delta_rule_chunked(const float* mixed, std::int64_t ldm, std::int64_t key_heads, std::int64_t key_dim,
                                     std::int64_t value_heads, std::int64_t value_dim, const float* g,
                                     const float* beta, const StateRows& rows, float* state, float* out,
                                     std::int64_t ldo, float* scratch, CUstream_st* stream) {
  if (rows.sequences == 0 || rows.longest < 2) return;
  const Mixed in{mixed, ldm, static_cast<int>(key_heads), static_cast<int>(key_dim), static_cast<int>(value_dim)};
  const auto vh = static_cast<int>(value_heads);
  const Scratch sc = make_scratch(scratch, value_heads, key_dim, value_dim);
  const cudaStream_t s = as_stream(stream);
  const std::size_t state_bytes = state_shared_bytes(static_cast<int>(key_dim));
  ARLE_CUDA_CHECK(cudaFuncSetAttribute(chunk_prepare_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(kPrepareSharedBytes)));
  ARLE_CUDA_CHECK(cudaFuncSetAttribute(chunk_state_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(state_bytes)));
  const auto chunks = static_cast<unsigned>((rows.longest + kChunk - 1) / kChunk);
  const dim3 prepare_grid(static_cast<unsigned>(rows.sequences), chunks, static_cast<unsigned>(value_heads));
  chunk_prepare_kernel<<<prepare_grid, kThreads, kPrepareSharedBytes, s>>>(in, g, beta, vh, rows, sc);
  ARLE_CUDA_CHECK(cudaGetLastError());
  const dim3 state_grid(static_cast<unsigned>(rows.sequences), static_cast<unsigned>(value_heads),
                        static_cast<unsigned>((value_dim + kTileColumns - 1) / kTileColumns));
  chunk_state_kernel<<<state_grid, kThreads, state_bytes, s>>>(vh, rows, sc, state, out, ldo);
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
