// Paged KV writes and causal paged attention (see kernels.h). A block of four
// warps per (row, query head, split of the context); each warp walks its
// chunk four positions at a time with an online (max-subtracted) softmax,
// lanes splitting head_dim; the warps merge at the end, and the splits in a
// second kernel. Steps with query tiles (prefill chunks) run those on tensor
// cores (prefill_attention.cu); this kernel then takes the rows alone in
// their sequence through a row list.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_helpers.cuh"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/paged_slot.cuh"

namespace arle::kernels::cuda {
namespace {

constexpr int kWarps = 4;

template <typename T>
__global__ void kv_write_kernel(const T* k, const T* v, std::int64_t ld, PagedMeta meta, std::int64_t kv_width,
                                T* k_cache, T* v_cache) {
  const std::int64_t r = blockIdx.x;
  if (meta.positions[r] < 0) return;  // padding
  const std::int64_t slot = paged_slot(meta, r, meta.positions[r]);
  for (std::int64_t i = threadIdx.x; i < kv_width; i += blockDim.x) {
    k_cache[slot * kv_width + i] = k[r * ld + i];
    v_cache[slot * kv_width + i] = v[r * ld + i];
  }
}

// One block per (row, query head, split): the split's chunk of the context
// with an online softmax per warp, merged across the block's warps. With one
// split the result is written to `out`; else the partial (max, sum, acc) go
// to the workspace for merge_kernel. A warp takes kUnroll positions at a
// time and issues all their K and V loads before any math, so decode (a few
// blocks, each latency-bound) keeps several loads in flight per warp.
// kLanes: head_dim / 32 rounded up, at most (registers scale with it).
constexpr int kUnroll = 4;
constexpr std::int64_t kMinChunk = 64;

template <typename T, int kLanes>
__global__ void attention_kernel(const T* q, std::int64_t ldq, PagedMeta meta, const T* k_cache, const T* v_cache,
                                 std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim, float scale,
                                 T* out, std::int64_t ldo, std::int64_t splits, float* workspace,
                                 const std::int32_t* row_list) {
  // i: the block's row in this launch (and in the workspace); r: in the step.
  const std::int64_t i = blockIdx.x, h = blockIdx.y, split = blockIdx.z;
  const std::int64_t r = row_list ? row_list[i] : i;
  const std::int64_t kvh = h / (q_heads / kv_heads);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const std::int64_t kv_width = kv_heads * head_dim;
  const std::int64_t context = meta.positions[r] + 1;
  // At least kMinChunk positions per split: short contexts use few splits
  // (the rest stay empty) whatever count the launch was made for.
  const std::int64_t even = (context + splits - 1) / splits;
  const std::int64_t chunk = even > kMinChunk ? even : kMinChunk;
  const std::int64_t begin = split * chunk, end = begin + chunk < context ? begin + chunk : context;

  float qv[kLanes], acc[kLanes];
#pragma unroll
  for (int j = 0; j < kLanes; ++j) {
    const std::int64_t d = lane + 32 * j;
    qv[j] = d < head_dim ? load(q + r * ldq + h * head_dim + d) * scale : 0.0f;
    acc[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (std::int64_t p0 = begin + warp * kUnroll; p0 < end; p0 += kWarps * kUnroll) {
    float kx[kUnroll][kLanes], vx[kUnroll][kLanes];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const bool live = p0 + u < end;
      const std::int64_t base = live ? paged_slot(meta, r, p0 + u) * kv_width + kvh * head_dim : 0;
#pragma unroll
      for (int j = 0; j < kLanes; ++j) {
        const std::int64_t d = lane + 32 * j;
        const bool ok = live && d < head_dim;
        kx[u][j] = ok ? load(k_cache + base + d) : 0.0f;
        vx[u][j] = ok ? load(v_cache + base + d) : 0.0f;
      }
    }
    float s[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      s[u] = 0.0f;
#pragma unroll
      for (int j = 0; j < kLanes; ++j) s[u] += qv[j] * kx[u][j];
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) s[u] += __shfl_xor_sync(0xffffffffu, s[u], o);
    }
    float m_new = m;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) m_new = p0 + u < end ? fmaxf(m_new, s[u]) : m_new;
    const float correction = __expf(m - m_new);  // 0 on the first positions (m = -inf)
    l *= correction;
#pragma unroll
    for (int j = 0; j < kLanes; ++j) acc[j] *= correction;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (p0 + u >= end) continue;
      const float e = __expf(s[u] - m_new);
      l += e;
#pragma unroll
      for (int j = 0; j < kLanes; ++j) acc[j] += e * vx[u][j];
    }
    m = m_new;
  }

  // Merge the warps: rescale each to the common max.
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  extern __shared__ float warp_acc[];  // kWarps * head_dim
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
#pragma unroll
  for (int j = 0; j < kLanes; ++j) {
    const std::int64_t d = lane + 32 * j;
    if (d < head_dim) warp_acc[warp * head_dim + d] = acc[j];
  }
  __syncthreads();
  if (warp != 0) return;
  float m_all = -INFINITY;
  for (int w = 0; w < kWarps; ++w) m_all = fmaxf(m_all, warp_m[w]);
  float l_all = 0.0f, factor[kWarps];
  for (int w = 0; w < kWarps; ++w) {
    factor[w] = warp_l[w] > 0.0f ? __expf(warp_m[w] - m_all) : 0.0f;
    l_all += warp_l[w] * factor[w];
  }
  if (splits == 1) {
    for (std::int64_t d = lane; d < head_dim; d += 32) {
      float sum = 0.0f;
      for (int w = 0; w < kWarps; ++w) sum += warp_acc[w * head_dim + d] * factor[w];
      store(out + r * ldo + h * head_dim + d, l_all > 0.0f ? sum / l_all : 0.0f);  // 0: a padding row
    }
    return;
  }
  // Partial: [(i * q_heads + h) * splits + split] holds (m, l, acc[head_dim]).
  float* part = workspace + ((i * q_heads + h) * splits + split) * (head_dim + 2);
  if (lane == 0) {
    part[0] = m_all;
    part[1] = l_all;  // 0 for an empty chunk
  }
  for (std::int64_t d = lane; d < head_dim; d += 32) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w) sum += warp_acc[w * head_dim + d] * factor[w];
    part[2 + d] = sum;
  }
}

// Merges the splits of one (row, head): rescale each to the common max.
// Threads read the splits' (max, sum) in parallel and skip empty splits (a
// CUDA graph keeps the split count of the longest context, so short ones
// leave most splits empty).
template <typename T>
__global__ void merge_kernel(const float* workspace, std::int64_t q_heads, std::int64_t head_dim, std::int64_t splits,
                             T* out, std::int64_t ldo, const std::int32_t* row_list) {
  __shared__ float reduce[32];
  const std::int64_t i = blockIdx.x, h = blockIdx.y, r = row_list ? row_list[i] : i;
  const std::int64_t stride = head_dim + 2;
  const float* parts = workspace + (i * q_heads + h) * splits * stride;
  float m_local = -INFINITY;
  for (std::int64_t s = threadIdx.x; s < splits; s += blockDim.x) {
    if (parts[s * stride + 1] > 0.0f) m_local = fmaxf(m_local, parts[s * stride]);
  }
  const float m_all = block_max(m_local, reduce);
  float l_local = 0.0f;
  for (std::int64_t s = threadIdx.x; s < splits; s += blockDim.x) {
    const float l = parts[s * stride + 1];
    if (l > 0.0f) l_local += l * __expf(parts[s * stride] - m_all);
  }
  const float l_all = block_sum(l_local, reduce);
  for (std::int64_t d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    for (std::int64_t s = 0; s < splits; ++s) {
      const float l = parts[s * stride + 1];
      if (l > 0.0f) sum += parts[s * stride + 2 + d] * __expf(parts[s * stride] - m_all);
    }
    store(out + r * ldo + h * head_dim + d, l_all > 0.0f ? sum / l_all : 0.0f);
  }
}

cudaStream_t as_stream(CUstream_st* s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace

void launch_paged_kv_write(const void* k, const void* v, std::int64_t ld, const PagedMeta& meta, std::int64_t kv_width,
                           void* k_cache, void* v_cache, bool bf16, CUstream_st* stream) {
  if (meta.rows == 0) return;
  const int threads = kv_width >= 256 ? 256 : 64;
  if (bf16) {
    kv_write_kernel<__nv_bfloat16><<<static_cast<unsigned>(meta.rows), threads, 0, as_stream(stream)>>>(
        static_cast<const __nv_bfloat16*>(k), static_cast<const __nv_bfloat16*>(v), ld, meta, kv_width,
        static_cast<__nv_bfloat16*>(k_cache), static_cast<__nv_bfloat16*>(v_cache));
  } else {
    kv_write_kernel<float><<<static_cast<unsigned>(meta.rows), threads, 0, as_stream(stream)>>>(
        static_cast<const float*>(k), static_cast<const float*>(v), ld, meta, kv_width, static_cast<float*>(k_cache),
        static_cast<float*>(v_cache));
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

std::int64_t paged_attention_splits(std::int64_t rows, std::int64_t blocks_per_row, std::int64_t max_context,
                                    int multiprocessors) {
  const std::int64_t blocks = rows * blocks_per_row;
  const std::int64_t wanted = (4 * static_cast<std::int64_t>(multiprocessors) + blocks - 1) / blocks;
  const std::int64_t most = (max_context + 63) / 64;
  return std::max<std::int64_t>(1, std::min(wanted, most));
}

void launch_paged_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const void* k_cache,
                            const void* v_cache, std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim,
                            float scale, void* out, std::int64_t ldo, std::int64_t splits, float* workspace, bool bf16,
                            const std::int32_t* row_list, std::int64_t list_rows, CUstream_st* stream) {
  const std::int64_t rows = row_list ? list_rows : meta.rows;
  if (rows == 0) return;
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(q_heads), static_cast<unsigned>(splits));
  const std::size_t smem = static_cast<std::size_t>(kWarps * head_dim) * sizeof(float);
  auto run = [&](auto type_tag) {
    using T = decltype(type_tag);
    const auto* qt = static_cast<const T*>(q);
    const auto* kt = static_cast<const T*>(k_cache);
    const auto* vt = static_cast<const T*>(v_cache);
    auto* ot = static_cast<T*>(out);
    const cudaStream_t s = as_stream(stream);
    if (head_dim <= 128) {
      attention_kernel<T, 4><<<grid, kWarps * 32, smem, s>>>(qt, ldq, meta, kt, vt, q_heads, kv_heads, head_dim, scale,
                                                             ot, ldo, splits, workspace, row_list);
    } else if (head_dim <= 256) {
      attention_kernel<T, 8><<<grid, kWarps * 32, smem, s>>>(qt, ldq, meta, kt, vt, q_heads, kv_heads, head_dim, scale,
                                                             ot, ldo, splits, workspace, row_list);
    } else {
      attention_kernel<T, 16><<<grid, kWarps * 32, smem, s>>>(qt, ldq, meta, kt, vt, q_heads, kv_heads, head_dim, scale,
                                                              ot, ldo, splits, workspace, row_list);
    }
  };
  if (bf16) {
    run(__nv_bfloat16{});
  } else {
    run(float{});
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
  if (splits > 1) launch_split_merge(workspace, rows, q_heads, head_dim, splits, out, ldo, row_list, bf16, stream);
}

void launch_split_merge(const float* workspace, std::int64_t rows, std::int64_t q_heads, std::int64_t head_dim,
                        std::int64_t splits, void* out, std::int64_t ldo, const std::int32_t* row_list, bool bf16,
                        CUstream_st* stream) {
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(q_heads));
  if (bf16) {
    merge_kernel<__nv_bfloat16><<<grid, 128, 0, as_stream(stream)>>>(workspace, q_heads, head_dim, splits,
                                                                     static_cast<__nv_bfloat16*>(out), ldo, row_list);
  } else {
    merge_kernel<float><<<grid, 128, 0, as_stream(stream)>>>(workspace, q_heads, head_dim, splits,
                                                             static_cast<float*>(out), ldo, row_list);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
