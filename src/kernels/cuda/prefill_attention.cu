// Causal paged attention for query tiles on tensor cores, FlashAttention-2
// style (see kernels.h launch_prefill_attention). A block takes one tile (up
// to 64 rows of one sequence) and kHeads query heads of one kv head (2 where
// the GQA group size is even, else 1), four warps per head, each warp owning
// 16 rows; the heads share every K/V tile the block loads, which halves the
// loads per FLOP (the kernel waits on them more than on its tensor cores). K/V tiles are gathered through the page
// table into shared memory with cp.async, double-buffered; S = Q K^T and O += P V run as bf16 mma.sync m16n8k16 with
// float32 accumulators, and the softmax is online (base 2, max-subtracted) in registers. Fragments come from shared
// memory by ldmatrix (.trans for V); rows are padded by 16 bytes so that the eight row addresses of an ldmatrix fall in
// distinct banks.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cmath>

#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/tensor_core.cuh"

namespace arle::kernels::cuda {
namespace {

using bf16 = __nv_bfloat16;

constexpr int kWarpsPerHead = 4, kTileRows = kWarpsPerHead * 16;

// Keys per K/V tile: fewer for head_dim 256, whose output accumulators take
// 128 registers a thread.
template <int D, int kHeads>
struct TileShape {
  static constexpr int kThreads = kHeads * kWarpsPerHead * 32;
  // Two 8-warp blocks per SM where their shared memory fits (head_dim up to
  // 128): this caps registers at 128 a thread, which spills 8 bytes outside
  // the key loop; 16 warps hide the K/V loads far better than 8.
  static constexpr int kMinBlocks = D <= 128 && kHeads == 2 ? 2 : 1;
  static constexpr int kKeys = D <= 128 ? 64 : 32;
  static constexpr int kStride = D + 8;  // elements per shared-memory row
  static constexpr int kChunks = D / 8;  // 16-byte pieces per row
  static constexpr std::size_t kSmemBytes =
      static_cast<std::size_t>(kHeads * kTileRows + 4 * kKeys) * kStride * sizeof(bf16);
};

// Fragment ownership: see tensor_core.cuh.
template <int D, int kHeads>
__global__ void __launch_bounds__(TileShape<D, kHeads>::kThreads, TileShape<D, kHeads>::kMinBlocks)
    prefill_attention_kernel(const bf16* q, std::int64_t ldq, PagedMeta meta, const std::int32_t* tiles,
                             std::int64_t tile_count, const bf16* k_cache, const bf16* v_cache, std::int64_t q_heads,
                             std::int64_t kv_heads, float scale_log2, bf16* out, std::int64_t ldo) {
  using S = TileShape<D, kHeads>;
  constexpr int kKeys = S::kKeys, kStride = S::kStride, kChunks = S::kChunks, kThreads = S::kThreads;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* const qs = reinterpret_cast<bf16*>(smem);      // [kHeads][kTileRows][kStride]
  bf16* const ks = qs + kHeads * kTileRows * kStride;  // [2][kKeys][kStride]
  bf16* const vs = ks + 2 * kKeys * kStride;           // [2][kKeys][kStride]
  __shared__ int row_position[kTileRows];

  // The last tiles of a sequence see the most keys: start them first.
  const std::int64_t tile = tile_count - 1 - blockIdx.x;
  const int begin = tiles[2 * tile], rows = tiles[2 * tile + 1] - begin;
  // The block's heads [first_head, first_head + kHeads) share kv head kvh;
  // warp `warp` owns rows [16 row_warp, 16 row_warp + 16) of head h.
  const int tid = threadIdx.x, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int head_in_block = (tid >> 5) / kWarpsPerHead, warp = (tid >> 5) % kWarpsPerHead;
  const std::int64_t first_head = static_cast<std::int64_t>(blockIdx.y) * kHeads, h = first_head + head_in_block;
  const std::int64_t kvh = first_head / (q_heads / kv_heads), kv_width = kv_heads * D;

  if (tid < kTileRows) row_position[tid] = tid < rows ? meta.positions[begin + tid] : -1;
  for (int c = tid; c < kHeads * kTileRows * kChunks; c += kThreads) {
    const int r = c / kChunks % kTileRows, piece = c % kChunks, hh = c / (kChunks * kTileRows);
    const bool valid = r < rows;
    copy16_async(qs + (hh * kTileRows + r) * kStride + piece * 8,
                 q + (valid ? (begin + r) * ldq + (first_head + hh) * D + piece * 8 : 0), valid);
  }
  __syncthreads();
  int last = -1, warp_last = -1, warp_first = INT_MAX;
  for (int r = 0; r < rows; ++r) last = max(last, row_position[r]);
  for (int r = warp * 16; r < warp * 16 + 16; ++r) {
    warp_last = max(warp_last, row_position[r]);
    warp_first = min(warp_first, row_position[r]);
  }
  const std::int64_t keys = last + 1;
  const int key_tiles = static_cast<int>((keys + kKeys - 1) / kKeys);
  const std::int32_t* table = meta.block_tables + meta.table_offsets[meta.row_seq[begin]];

  auto load_keys = [&](int j, int buffer) {
    load_kv_tile<D, kKeys, kThreads>(ks + buffer * kKeys * kStride, vs + buffer * kKeys * kStride, k_cache, v_cache,
                                     table, meta.page_size, kv_width, kvh, static_cast<std::int64_t>(j) * kKeys, keys);
  };
  if (key_tiles > 0) load_keys(0, 0);
  commit_async();

  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  const int position[2] = {row_position[warp * 16 + g], row_position[warp * 16 + g + 8]};
  for (int j = 0; j < key_tiles; ++j) {
    prefetch_next_and_wait(j, key_tiles, load_keys);
    __syncthreads();
    const int first_key = j * kKeys;
    // Causal: a warp whose rows all end before this tile skips it.
    if (first_key <= warp_last) {
      float s[kKeys / 8][4] = {};
      warp_tile_mma<D>(s, qs + (head_in_block * kTileRows + warp * 16) * kStride, ks + (j & 1) * kKeys * kStride, lane);
      // Scale into base 2 and mask the future; only tiles that reach past
      // the warp's first row need the mask.
      if (first_key + kKeys - 1 <= warp_first) {
#pragma unroll
        for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
          for (int e = 0; e < 4; ++e) s[nt][e] *= scale_log2;
        }
      } else {
#pragma unroll
        for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int key = first_key + nt * 8 + 2 * t + (e & 1);
            s[nt][e] = key <= position[e >> 1] ? s[nt][e] * scale_log2 : -INFINITY;
          }
        }
      }
      online_softmax_step(s, m, l, o);
      accumulate_pv<D>(o, s, vs + (j & 1) * kKeys * kStride, lane);
    }
    __syncthreads();  // the buffer is refilled next iteration
  }

  const int r0 = warp * 16 + g, r1 = r0 + 8;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
  }
  const float inv0 = l[0] > 0.0f ? 1.0f / l[0] : 0.0f, inv1 = l[1] > 0.0f ? 1.0f / l[1] : 0.0f;
#pragma unroll
  for (int dn = 0; dn < D / 8; ++dn) {
    const std::int64_t d = h * D + dn * 8 + 2 * t;
    if (r0 < rows) {
      *reinterpret_cast<__nv_bfloat162*>(out + (begin + r0) * ldo + d) =
          __floats2bfloat162_rn(o[dn][0] * inv0, o[dn][1] * inv0);
    }
    if (r1 < rows) {
      *reinterpret_cast<__nv_bfloat162*>(out + (begin + r1) * ldo + d) =
          __floats2bfloat162_rn(o[dn][2] * inv1, o[dn][3] * inv1);
    }
  }
}

template <int D, int kHeads>
void launch_heads(const void* q, std::int64_t ldq, const PagedMeta& meta, const std::int32_t* tiles,
                  std::int64_t tile_count, const void* k_cache, const void* v_cache, std::int64_t q_heads,
                  std::int64_t kv_heads, float scale, void* out, std::int64_t ldo, CUstream_st* stream) {
  using S = TileShape<D, kHeads>;
  constexpr std::size_t smem = S::kSmemBytes;
  // Above 48 KiB a kernel must opt in; once per instantiation and device is
  // enough, but the call is cheap and keeps no state.
  ARLE_CUDA_CHECK(cudaFuncSetAttribute(prefill_attention_kernel<D, kHeads>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(smem)));
  const dim3 grid(static_cast<unsigned>(tile_count), static_cast<unsigned>(q_heads / kHeads));
  prefill_attention_kernel<D, kHeads><<<grid, S::kThreads, smem, reinterpret_cast<cudaStream_t>(stream)>>>(
      static_cast<const bf16*>(q), ldq, meta, tiles, tile_count, static_cast<const bf16*>(k_cache),
      static_cast<const bf16*>(v_cache), q_heads, kv_heads, scale * 1.4426950408889634f, static_cast<bf16*>(out), ldo);
  ARLE_CUDA_CHECK(cudaGetLastError());
}

template <int D>
void launch(const void* q, std::int64_t ldq, const PagedMeta& meta, const std::int32_t* tiles, std::int64_t tile_count,
            const void* k_cache, const void* v_cache, std::int64_t q_heads, std::int64_t kv_heads, float scale,
            void* out, std::int64_t ldo, CUstream_st* stream) {
  if ((q_heads / kv_heads) % 2 == 0) {
    launch_heads<D, 2>(q, ldq, meta, tiles, tile_count, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, stream);
  } else {
    launch_heads<D, 1>(q, ldq, meta, tiles, tile_count, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, stream);
  }
}

}  // namespace

bool prefill_attention_supports(std::int64_t head_dim) { return head_dim == 64 || head_dim == 128 || head_dim == 256; }

void launch_prefill_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const std::int32_t* tiles,
                              std::int64_t tile_count, const void* k_cache, const void* v_cache, std::int64_t q_heads,
                              std::int64_t kv_heads, std::int64_t head_dim, float scale, void* out, std::int64_t ldo,
                              CUstream_st* stream) {
  if (tile_count == 0) return;
  switch (head_dim) {
    case 64:
      launch<64>(q, ldq, meta, tiles, tile_count, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, stream);
      break;
    case 128:
      launch<128>(q, ldq, meta, tiles, tile_count, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, stream);
      break;
    case 256:
      launch<256>(q, ldq, meta, tiles, tile_count, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, stream);
      break;
    default:
      break;  // the caller checks prefill_attention_supports()
  }
}

}  // namespace arle::kernels::cuda
