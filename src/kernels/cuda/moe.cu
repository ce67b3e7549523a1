// MoE on the device (see kernels.h launch_moe_route, launch_grouped_gemm):
// routing (softmax, top-k, renormalize) one warp per row; grouping of the
// (row, expert) assignments into per-expert runs and 64-row tiles by one
// block; and a grouped bf16 GEMM on tensor cores whose blocks find their
// expert and rows in the tile table, so no count ever goes back to the host
// and a MoE step can be captured in a CUDA graph.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/tensor_core.cuh"

namespace arle::kernels::cuda {
namespace {

using bf16 = __nv_bfloat16;

constexpr int kMaxExpertsPerLane = kMoeMaxExperts / 32;

// One warp per row, as cpu::moe_route: float32 softmax over the experts,
// the k most likely (ties to the lower id), weights renormalized over the k
// when asked; the row's picks are then written in ascending expert id (the
// order combine_rows sums them in).
__global__ void moe_route_kernel(const float* logits, std::int64_t rows, int experts, int k, bool normalize,
                                 std::int32_t* ids, float* weights) {
  const int lane = threadIdx.x & 31;
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (r >= rows) return;
  const float* l = logits + r * experts;
  float p[kMaxExpertsPerLane];
  float top = -INFINITY;
#pragma unroll
  for (int i = 0; i < kMaxExpertsPerLane; ++i) {
    const int e = lane + 32 * i;
    p[i] = e < experts ? l[e] : -INFINITY;
    top = fmaxf(top, p[i]);
  }
  for (int o = 16; o > 0; o >>= 1) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o));
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kMaxExpertsPerLane; ++i) {
    p[i] = lane + 32 * i < experts ? expf(p[i] - top) : 0.0f;
    sum += p[i];
  }
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
#pragma unroll
  for (int i = 0; i < kMaxExpertsPerLane; ++i) p[i] = lane + 32 * i < experts ? p[i] / sum : -1.0f;

  std::int32_t pick_id[kMoeMaxTopK];
  float pick_p[kMoeMaxTopK];
  float top_sum = 0.0f;
  for (int j = 0; j < k; ++j) {
    // The lane's best, then the warp's: larger probability, then lower id.
    float best = -2.0f;
    int best_id = 1 << 30;
#pragma unroll
    for (int i = 0; i < kMaxExpertsPerLane; ++i) {
      if (p[i] > best) best = p[i], best_id = lane + 32 * i;  // ids rise with i: the first of equals wins
    }
    for (int o = 16; o > 0; o >>= 1) {
      const float other = __shfl_xor_sync(0xffffffffu, best, o);
      const int other_id = __shfl_xor_sync(0xffffffffu, best_id, o);
      if (other > best || (other == best && other_id < best_id)) best = other, best_id = other_id;
    }
    pick_id[j] = best_id;
    pick_p[j] = best;
    top_sum += best;
#pragma unroll
    for (int i = 0; i < kMaxExpertsPerLane; ++i) {
      if (lane + 32 * i == best_id) p[i] = -1.0f;
    }
  }
  if (lane != 0) return;
  for (int a = 1; a < k; ++a) {  // insertion sort by expert id
    const std::int32_t id = pick_id[a];
    const float v = pick_p[a];
    int b = a - 1;
    for (; b >= 0 && pick_id[b] > id; --b) pick_id[b + 1] = pick_id[b], pick_p[b + 1] = pick_p[b];
    pick_id[b + 1] = id, pick_p[b + 1] = v;
  }
  for (int j = 0; j < k; ++j) {
    ids[r * k + j] = pick_id[j];
    weights[r * k + j] = normalize ? pick_p[j] / top_sum : pick_p[j];
  }
}

// One block of 1024 threads: counts per expert, runs by an exclusive scan,
// each assignment's slot in its expert's run, and the tile table. The order
// of rows inside a run follows the atomics (not the row order); every row's
// result is the same wherever it sits, and `index` records where it is.
constexpr int kGroupThreads = 1024;

__global__ void __launch_bounds__(kGroupThreads)
    moe_group_kernel(const std::int32_t* ids, std::int64_t assignments, std::int64_t k, int experts,
                     std::int32_t* local, MoeGroups g) {
  __shared__ std::int32_t count[kMoeMaxExperts + 1], tile_start[kMoeMaxExperts + 1];
  for (int e = threadIdx.x; e <= experts; e += blockDim.x) count[e] = 0;
  __syncthreads();
  for (std::int64_t a = threadIdx.x; a < assignments; a += blockDim.x) local[a] = atomicAdd(&count[ids[a]], 1);
  __syncthreads();
  if (threadIdx.x == 0) {  // experts <= 512: a serial scan is shorter than a parallel one's barriers
    std::int32_t rows = 0, tiles = 0;
    for (int e = 0; e < experts; ++e) {
      const std::int32_t c = count[e];
      count[e] = rows;
      tile_start[e] = tiles;
      rows += c;
      tiles += (c + kMoeTileRows - 1) / kMoeTileRows;
    }
    count[experts] = rows;
    tile_start[experts] = tiles;
    *g.tile_count = tiles;
  }
  __syncthreads();
  for (std::int64_t a = threadIdx.x; a < assignments; a += blockDim.x) {
    const std::int32_t slot = count[ids[a]] + local[a];
    g.index[a] = slot;
    g.gather[slot] = static_cast<std::int32_t>(a / k);
  }
  for (int e = threadIdx.x; e < experts; e += blockDim.x) {
    for (std::int32_t t = tile_start[e], row = count[e]; t < tile_start[e + 1]; ++t, row += kMoeTileRows) {
      g.tile_expert[t] = e;
      g.tile_begin[t] = row;
      g.tile_end[t] = min(row + kMoeTileRows, count[e + 1]);
    }
  }
}

// y[rows of tile, n0 .. n0 + 64) = x[rows] w_e^T: four warps of 16 rows x 64
// columns, K in steps of 64 through shared memory (cp.async, two stages).
constexpr int kGemmThreads = 128, kGemmCols = 64, kGemmK = 64, kGemmStride = kGemmK + 8;

__global__ void __launch_bounds__(kGemmThreads)
    grouped_gemm_kernel(const bf16* x, const bf16* const* w, std::int64_t n, std::int64_t k, MoeGroups g, bf16* y) {
  __shared__ __align__(16) bf16 xs[2][kMoeTileRows * kGemmStride];
  __shared__ __align__(16) bf16 ws[2][kGemmCols * kGemmStride];
  const int tile = blockIdx.x;
  if (tile >= *g.tile_count) return;  // the grid is sized for the worst case
  const int begin = g.tile_begin[tile], rows = g.tile_end[tile] - begin;
  const bf16* const we = w[g.tile_expert[tile]];
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * kGemmCols;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gr = lane >> 2, t = lane & 3;

  auto load = [&](int step, int stage) {
    const std::int64_t k0 = static_cast<std::int64_t>(step) * kGemmK;
    for (int c = tid; c < kMoeTileRows * (kGemmK / 8); c += kGemmThreads) {
      const int row = c / (kGemmK / 8), piece = c % (kGemmK / 8);
      const std::int64_t col = k0 + piece * 8;
      const bool xv = row < rows && col < k;
      copy16_async(&xs[stage][row * kGemmStride + piece * 8], x + (xv ? (begin + row) * k + col : 0), xv);
      const bool wv = n0 + row < n && col < k;
      copy16_async(&ws[stage][row * kGemmStride + piece * 8], we + (wv ? (n0 + row) * k + col : 0), wv);
    }
  };
  const int steps = static_cast<int>((k + kGemmK - 1) / kGemmK);
  load(0, 0);
  commit_async();
  float acc[kGemmCols / 8][4] = {};
  const bool live = warp * 16 < rows;  // a warp past the tile's rows only helps load
  for (int s = 0; s < steps; ++s) {
    prefetch_next_and_wait(s, steps, load);
    __syncthreads();
    if (live) {
      const bf16* const xb = xs[s & 1];
      const bf16* const wb = ws[s & 1];
      warp_tile_mma<kGemmK>(acc, xb + warp * 16 * kGemmStride, wb, lane);
    }
    __syncthreads();
  }
  if (!live) return;
  const int r0 = warp * 16 + gr, r1 = r0 + 8;
#pragma unroll
  for (int nt = 0; nt < kGemmCols / 8; ++nt) {
    const std::int64_t col = n0 + nt * 8 + 2 * t;
    if (col >= n) continue;
    if (r0 < rows) {
      *reinterpret_cast<__nv_bfloat162*>(y + (begin + r0) * n + col) = __floats2bfloat162_rn(acc[nt][0], acc[nt][1]);
    }
    if (r1 < rows) {
      *reinterpret_cast<__nv_bfloat162*>(y + (begin + r1) * n + col) = __floats2bfloat162_rn(acc[nt][2], acc[nt][3]);
    }
  }
}

cudaStream_t as_stream(CUstream_st* s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace

void launch_moe_route(const float* logits, std::int64_t rows, std::int64_t experts, std::int64_t k, bool normalize,
                      std::int32_t* ids, float* weights, std::int32_t* scratch, const MoeGroups& groups,
                      CUstream_st* stream) {
  if (rows == 0) return;
  constexpr int kWarpsPerBlock = 4;
  moe_route_kernel<<<static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock), kWarpsPerBlock * 32, 0,
                     as_stream(stream)>>>(logits, rows, static_cast<int>(experts), static_cast<int>(k), normalize, ids,
                                          weights);
  ARLE_CUDA_CHECK(cudaGetLastError());
  moe_group_kernel<<<1, kGroupThreads, 0, as_stream(stream)>>>(ids, rows * k, k, static_cast<int>(experts), scratch,
                                                               groups);
  ARLE_CUDA_CHECK(cudaGetLastError());
}

std::int64_t moe_max_tiles(std::int64_t assignments, std::int64_t experts) {
  // Each expert's run ends in at most one partial tile.
  return assignments / kMoeTileRows + experts;
}

void launch_grouped_gemm(const void* x, const void* const* expert_weights, std::int64_t n, std::int64_t k,
                         const MoeGroups& groups, std::int64_t max_tiles, void* y, CUstream_st* stream) {
  if (max_tiles == 0 || n == 0) return;
  const dim3 grid(static_cast<unsigned>(max_tiles), static_cast<unsigned>((n + kGemmCols - 1) / kGemmCols));
  grouped_gemm_kernel<<<grid, kGemmThreads, 0, as_stream(stream)>>>(
      static_cast<const bf16*>(x), reinterpret_cast<const bf16* const*>(expert_weights), n, k, groups,
      static_cast<bf16*>(y));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
