// Split-KV decode attention on tensor cores (see kernels.h
// launch_decode_attention). One block per (row, kv head, split): the query
// heads sharing the kv head are the rows of one 16-row mma tile, so each
// K/V byte is read once for the whole group (the CUDA-core kernel reads it
// once per query head). K/V tiles of 64 keys stream through shared memory by
// cp.async, double-buffered; warp w takes keys [16w, 16w + 16) of every tile
// with its own online softmax, and the four warps merge at the end. Partial
// results of a split go to the workspace in the CUDA-core kernel's format
// (natural-log max), and its merge kernel combines them.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/cuda/attention_tile.cuh"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/tensor_core.cuh"

namespace arle::kernels::cuda {
namespace {

using bf16 = __nv_bfloat16;

constexpr int kWarps = 4, kThreads = kWarps * 32, kKeys = kWarps * 16, kGroupRows = 16;

template <int D>
struct DecodeShape {
  static constexpr int kStride = D + 8;  // elements per shared-memory row (conflict-free ldmatrix)
  static constexpr int kChunks = D / 8;  // 16-byte pieces per row
  static constexpr std::size_t kSmemBytes = static_cast<std::size_t>(kGroupRows + 4 * kKeys) * kStride * sizeof(bf16);
  // The warps' float32 partial outputs reuse the K/V buffers at the end.
  static_assert(static_cast<std::size_t>(kWarps) * kGroupRows * D * sizeof(float) <=
                    static_cast<std::size_t>(4 * kKeys) * kStride * sizeof(bf16),
                "merge buffer does not fit");
};

template <int D>
__global__ void __launch_bounds__(kThreads)
    decode_attention_kernel(const bf16* q, std::int64_t ldq, PagedMeta meta, const bf16* k_cache, const bf16* v_cache,
                            std::int64_t q_heads, std::int64_t kv_heads, float scale_log2, bf16* out, std::int64_t ldo,
                            std::int64_t splits, float* workspace, const std::int32_t* row_list) {
  using S = DecodeShape<D>;
  constexpr int kStride = S::kStride, kChunks = S::kChunks;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* const qs = reinterpret_cast<bf16*>(smem);  // [kGroupRows][kStride]
  bf16* const ks = qs + kGroupRows * kStride;      // [2][kKeys][kStride]
  bf16* const vs = ks + 2 * kKeys * kStride;       // [2][kKeys][kStride]
  __shared__ float warp_max[kWarps][kGroupRows], warp_sum[kWarps][kGroupRows];

  // i: the block's row in this launch (and in the workspace); r: in the step.
  const std::int64_t i = blockIdx.x, kvh = blockIdx.y, split = blockIdx.z;
  const std::int64_t r = row_list ? row_list[i] : i;
  const int group = static_cast<int>(q_heads / kv_heads);
  const std::int64_t kv_width = kv_heads * D, first_head = kvh * group;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;

  // Whole tiles per split, at least one; padding rows (position -1) see nothing.
  const std::int64_t context = meta.positions[r] + 1;
  const std::int64_t even = (context + splits - 1) / splits;
  const std::int64_t chunk = even > kKeys ? (even + kKeys - 1) / kKeys * kKeys : kKeys;
  const std::int64_t begin = split * chunk, end = begin + chunk < context ? begin + chunk : context;
  const int key_tiles = end > begin ? static_cast<int>((end - begin + kKeys - 1) / kKeys) : 0;

  for (int c = tid; c < kGroupRows * kChunks; c += kThreads) {
    const int h = c / kChunks, piece = c % kChunks;
    const bool valid = h < group;
    copy16_async(qs + h * kStride + piece * 8, q + (valid ? r * ldq + (first_head + h) * D + piece * 8 : 0), valid);
  }
  const std::int32_t* table = meta.block_tables + meta.table_offsets[meta.row_seq[r]];
  auto load_keys = [&](int j, int buffer) {
    load_kv_tile<D, kKeys, kThreads>(ks + buffer * kKeys * kStride, vs + buffer * kKeys * kStride, k_cache, v_cache,
                                     table, meta.page_size, kv_width, kvh, begin + static_cast<std::int64_t>(j) * kKeys,
                                     end);
  };
  if (key_tiles > 0) load_keys(0, 0);
  commit_async();

  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  for (int j = 0; j < key_tiles; ++j) {
    prefetch_next_and_wait(j, key_tiles, load_keys);
    __syncthreads();
    const std::int64_t first_key = begin + static_cast<std::int64_t>(j) * kKeys + warp * 16;
    if (first_key < end) {
      const int at = ((j & 1) * kKeys + warp * 16) * kStride;
      float s[2][4] = {};
      warp_tile_mma<D>(s, qs, ks + at, lane);
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[nt][e] = first_key + nt * 8 + 2 * t + (e & 1) < end ? s[nt][e] * scale_log2 : -INFINITY;
        }
      }
      online_softmax_step(s, m, l, o);
      accumulate_pv<D>(o, s, vs + at, lane);
    }
    __syncthreads();  // the buffer is refilled next iteration
  }

  // Merge the warps through shared memory (the K/V buffers are free now).
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
  }
  float* const partial = reinterpret_cast<float*>(ks);  // [kWarps][kGroupRows][D]
  if (t == 0) {
    warp_max[warp][g] = m[0];
    warp_max[warp][g + 8] = m[1];
    warp_sum[warp][g] = l[0];
    warp_sum[warp][g + 8] = l[1];
  }
#pragma unroll
  for (int dn = 0; dn < D / 8; ++dn) {
    float* const row0 = partial + (warp * kGroupRows + g) * D + dn * 8 + 2 * t;
    row0[0] = o[dn][0];
    row0[1] = o[dn][1];
    row0[8 * D] = o[dn][2];
    row0[8 * D + 1] = o[dn][3];
  }
  __syncthreads();
  for (int c = tid; c < group * D; c += kThreads) {
    const int h = c / D, d = c % D;
    float top = -INFINITY;
    for (int w = 0; w < kWarps; ++w) top = warp_sum[w][h] > 0.0f ? fmaxf(top, warp_max[w][h]) : top;
    float sum = 0.0f, acc = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      const float factor = warp_sum[w][h] > 0.0f ? exp2f(warp_max[w][h] - top) : 0.0f;
      sum += warp_sum[w][h] * factor;
      acc += partial[(w * kGroupRows + h) * D + d] * factor;
    }
    const std::int64_t head = first_head + h;
    if (splits == 1) {
      out[r * ldo + head * D + d] = __float2bfloat16_rn(sum > 0.0f ? acc / sum : 0.0f);  // 0: a padding row
      continue;
    }
    float* const part = workspace + ((i * q_heads + head) * splits + split) * (D + 2);
    if (d == 0) {
      part[0] = top * 0.6931471805599453f;  // back to natural log, as merge_kernel expects
      part[1] = sum;                        // 0 for an empty split
    }
    part[2 + d] = acc;
  }
}

template <int D>
void launch(const void* q, std::int64_t ldq, const PagedMeta& meta, const void* k_cache, const void* v_cache,
            std::int64_t q_heads, std::int64_t kv_heads, float scale, void* out, std::int64_t ldo, std::int64_t splits,
            float* workspace, const std::int32_t* row_list, std::int64_t rows, CUstream_st* stream) {
  constexpr std::size_t smem = DecodeShape<D>::kSmemBytes;
  ARLE_CUDA_CHECK(cudaFuncSetAttribute(decode_attention_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(smem)));
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(kv_heads), static_cast<unsigned>(splits));
  const auto s = reinterpret_cast<cudaStream_t>(stream);
  decode_attention_kernel<D><<<grid, kThreads, smem, s>>>(
      static_cast<const bf16*>(q), ldq, meta, static_cast<const bf16*>(k_cache), static_cast<const bf16*>(v_cache),
      q_heads, kv_heads, scale * 1.4426950408889634f, static_cast<bf16*>(out), ldo, splits, workspace, row_list);
  ARLE_CUDA_CHECK(cudaGetLastError());
  if (splits > 1) launch_split_merge(workspace, rows, q_heads, D, splits, out, ldo, row_list, true, stream);
}

}  // namespace

bool decode_attention_supports(std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim) {
  return (head_dim == 64 || head_dim == 128 || head_dim == 256) && q_heads / kv_heads <= kGroupRows;
}

void launch_decode_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const void* k_cache,
                             const void* v_cache, std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim,
                             float scale, void* out, std::int64_t ldo, std::int64_t splits, float* workspace,
                             const std::int32_t* row_list, std::int64_t list_rows, CUstream_st* stream) {
  const std::int64_t rows = row_list ? list_rows : meta.rows;
  if (rows == 0) return;
  switch (head_dim) {
    case 64:
      launch<64>(q, ldq, meta, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, splits, workspace, row_list, rows,
                 stream);
      break;
    case 128:
      launch<128>(q, ldq, meta, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, splits, workspace, row_list, rows,
                  stream);
      break;
    case 256:
      launch<256>(q, ldq, meta, k_cache, v_cache, q_heads, kv_heads, scale, out, ldo, splits, workspace, row_list, rows,
                  stream);
      break;
    default:
      break;  // the caller checks decode_attention_supports()
  }
}

}  // namespace arle::kernels::cuda
