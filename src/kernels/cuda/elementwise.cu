// ARLE's own element-wise and per-row CUDA kernels (see kernels.h): float32
// math on float32 or bf16 storage, one block per row or one warp per (row,
// head), warp-shuffle reductions, 16-byte loads where the shapes allow.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_helpers.cuh"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/paged_slot.cuh"

namespace arle::kernels::cuda {
namespace {

template <typename T>
__global__ void embedding_kernel(const std::int32_t* ids, const T* table, std::int64_t dim, T* out, std::int64_t ldo) {
  const std::int64_t r = blockIdx.x;
  const T* src = table + static_cast<std::int64_t>(ids[r]) * dim;
  for (std::int64_t i = threadIdx.x; i < dim; i += blockDim.x) out[r * ldo + i] = src[i];
}

// R: the residual's storage (float32 keeps the running sum exact across
// layers; or T). kVec elements per load (4 when the width and strides allow,
// else 1); the row waits in shared memory as float32 between the two passes.
template <typename T, typename R, int kVec>
__global__ void rms_norm_kernel(const T* x, std::int64_t ldx, R* residual, std::int64_t ldr, const T* w, T* out,
                                std::int64_t ldo, int width, float eps, bool offset) {
  extern __shared__ float row[];  // width floats, then 32 for the reduction
  float* scratch = row + width;
  const std::int64_t r = blockIdx.x;
  const T* const xr = x + r * ldx;
  R* const rr = residual ? residual + r * ldr : nullptr;
  float sum = 0.0f;
  for (int i = threadIdx.x * kVec; i < width; i += blockDim.x * kVec) {
    const Vec<T, kVec> xv = load_vec<T, kVec>(xr + i);
    Vec<R, kVec> rv;
    if (rr) rv = load_vec<R, kVec>(rr + i);
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      float v = load(&xv.v[e]);
      if (rr) {
        v += load(&rv.v[e]);
        store(&rv.v[e], v);
      }
      row[i + e] = v;
      sum += v * v;
    }
    if (rr) store_vec(rr + i, rv);
  }
  const float inv = rsqrtf(block_sum(sum, scratch) / static_cast<float>(width) + eps);
  T* const outr = out + r * ldo;
  for (int i = threadIdx.x * kVec; i < width; i += blockDim.x * kVec) {
    const Vec<T, kVec> wv = load_vec<T, kVec>(w + i);
    Vec<T, kVec> ov;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      const float g = load(&wv.v[e]);
      store(&ov.v[e], row[i + e] * inv * (offset ? 1.0f + g : g));
    }
    store_vec(outr + i, ov);
  }
}

// Element i of the loaded head after RoPE with the row's cos/sin.
__device__ __forceinline__ float rotated(const float* head, int i, const float* c, const float* s, int rotary_dim,
                                         bool neox) {
  if (i >= rotary_dim) return head[i];
  const int half = rotary_dim / 2;
  if (neox) {
    const int k = i < half ? i : i - half;
    return i < half ? head[i] * c[k] - head[i + half] * s[k] : head[i] * c[k] + head[i - half] * s[k];
  }
  const int k = i / 2;
  return (i & 1) == 0 ? head[i] * c[k] - head[i + 1] * s[k] : head[i] * c[k] + head[i - 1] * s[k];
}

// One warp's work on one head: src's head_dim elements, RMSNorm with norm_w
// when given, RoPE with the row's cos/sin (c, s), written to dst (which may
// be src). The normed head waits in `head` (head_dim floats of shared
// memory, the warp's own) because RoPE pairs elements other lanes loaded.
// head_norm_rope and qkv_norm_rope_write both run it, so they agree bit
// for bit.
template <typename T>
__device__ __forceinline__ void norm_rope_head(const T* src, T* dst, int head_dim, const T* norm_w, float eps,
                                               bool norm_offset, const float* c, const float* s, int rotary_dim,
                                               bool neox, float* head, int lane) {
  float sum = 0.0f;
  for (int i = lane; i < head_dim; i += 32) {
    head[i] = load(src + i);
    sum += head[i] * head[i];
  }
  if (norm_w) {
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = rsqrtf(sum / static_cast<float>(head_dim) + eps);
    for (int i = lane; i < head_dim; i += 32) {
      const float g = load(norm_w + i);
      head[i] = head[i] * inv * (norm_offset ? 1.0f + g : g);
    }
  }
  __syncwarp();
  for (int i = lane; i < head_dim; i += 32) store(dst + i, rotated(head, i, c, s, rotary_dim, neox));
}

// Both kernels below: one warp per (row, head), kHeadsPerBlock to a block,
// no block-wide syncs (a warp past the end returns at once).
constexpr int kHeadsPerBlock = 8;

template <typename T>
__global__ void __launch_bounds__(kHeadsPerBlock * 32)
    head_norm_rope_kernel(T* x, std::int64_t ldx, int rows, int heads, int head_dim, const T* norm_w, float eps,
                          bool norm_offset, const float* cos, const float* sin, int rotary_dim, bool neox) {
  extern __shared__ float heads_smem[];  // [kHeadsPerBlock][head_dim]
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const unsigned item = blockIdx.x * kHeadsPerBlock + warp;
  if (item >= static_cast<unsigned>(rows) * heads) return;
  const int r = static_cast<int>(item / heads), h = static_cast<int>(item % heads);
  T* const v = x + r * ldx + static_cast<std::int64_t>(h) * head_dim;
  const std::int64_t cs = static_cast<std::int64_t>(r) * (rotary_dim / 2);
  norm_rope_head(v, v, head_dim, norm_w, eps, norm_offset, cos + cs, sin + cs, rotary_dim, neox,
                 heads_smem + warp * head_dim, lane);
}

// Per (row, head of q | k | v): q heads normed and rotated in place, k heads
// normed and rotated into their cache slot, v heads copied to theirs
// (padding rows, at position -1, write no cache).
template <typename T>
__global__ void __launch_bounds__(kHeadsPerBlock * 32)
    qkv_norm_rope_write_kernel(T* qkv, std::int64_t ld, int rows, int q_heads, int kv_heads, int head_dim,
                               const T* q_norm, const T* k_norm, float eps, bool norm_offset, const float* cos,
                               const float* sin, int rotary_dim, bool neox, PagedMeta meta, T* k_cache, T* v_cache) {
  extern __shared__ float heads_smem[];  // [kHeadsPerBlock][head_dim]
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, all_heads = q_heads + 2 * kv_heads;
  const unsigned item = blockIdx.x * kHeadsPerBlock + warp;
  if (item >= static_cast<unsigned>(rows) * all_heads) return;
  const int r = static_cast<int>(item / all_heads), h = static_cast<int>(item % all_heads);
  T* const v = qkv + r * ld + static_cast<std::int64_t>(h) * head_dim;
  const int position = meta.positions[r];
  const std::int64_t kv_width = static_cast<std::int64_t>(kv_heads) * head_dim;
  const std::int64_t slot = position >= 0 ? paged_slot(meta, r, position) : -1;
  if (h >= q_heads + kv_heads) {
    if (slot < 0) return;
    T* dst = v_cache + slot * kv_width + static_cast<std::int64_t>(h - q_heads - kv_heads) * head_dim;
    for (int i = lane; i < head_dim; i += 32) dst[i] = v[i];
    return;
  }
  const bool is_q = h < q_heads;
  T* const dst =
      is_q ? v : (slot >= 0 ? k_cache + slot * kv_width + static_cast<std::int64_t>(h - q_heads) * head_dim : nullptr);
  if (!dst) return;
  const std::int64_t cs = static_cast<std::int64_t>(r) * (rotary_dim / 2);
  norm_rope_head(v, dst, head_dim, is_q ? q_norm : k_norm, eps, norm_offset, cos + cs, sin + cs, rotary_dim, neox,
                 heads_smem + warp * head_dim, lane);
}

// kVec elements per load: 16 bytes when d and the strides allow, else 1.
template <typename T, int kVec>
__global__ void silu_and_mul_kernel(const T* in, std::int64_t ldi, T* out, std::int64_t ldo, int d) {
  const std::int64_t r = blockIdx.y;
  const T* const gate = in + r * ldi;
  const T* const up = gate + d;
  T* const o = out + r * ldo;
  for (int i = (blockIdx.x * blockDim.x + threadIdx.x) * kVec; i < d; i += gridDim.x * blockDim.x * kVec) {
    const Vec<T, kVec> gv = load_vec<T, kVec>(gate + i), uv = load_vec<T, kVec>(up + i);
    Vec<T, kVec> ov;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      const float g = load(&gv.v[e]);
      store(&ov.v[e], g / (1.0f + __expf(-g)) * load(&uv.v[e]));
    }
    store_vec(o + i, ov);
  }
}

template <typename T>
__global__ void add_kernel(T* x, const T* y, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    store(x + i, load(x + i) + load(y + i));
  }
}

template <typename T>
__global__ void combine_rows_kernel(const T* y, const std::int32_t* index, const float* weights, std::int64_t k,
                                    std::int64_t width, T* out) {
  const std::int64_t r = blockIdx.x;
  for (std::int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    float sum = 0.0f;
    for (std::int64_t j = 0; j < k; ++j) {
      sum += weights[r * k + j] * load(y + static_cast<std::int64_t>(index[r * k + j]) * width + i);
    }
    store(out + r * width + i, sum);
  }
}

int threads_for(std::int64_t width) {
  int t = 32;
  while (t < 1024 && t < width) t *= 2;
  return t;
}

// Whether every count is a multiple of n (vector_aligned(n, width, lds...))
// or every pointer is n-byte aligned (null pointers pass).
template <typename... Counts>
bool vector_aligned(std::int64_t n, Counts... counts) {
  if constexpr ((std::is_pointer_v<Counts> && ...)) {
    return ((reinterpret_cast<std::uintptr_t>(counts) % n == 0) && ...);
  } else {
    return ((counts % n == 0) && ...);
  }
}

cudaStream_t as_stream(CUstream_st* s) { return reinterpret_cast<cudaStream_t>(s); }

// Rows wider than 48 KiB of floats need the opt-in to more shared memory.
template <typename Kernel>
void allow_shared_memory(Kernel kernel, std::size_t bytes) {
  if (bytes > (48u << 10)) {
    ARLE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  }
}

// Launches `kernel` for float or bf16 storage.
#define ARLE_DISPATCH(bf16, T, ...) \
  if (bf16) {                       \
    using T = __nv_bfloat16;        \
    __VA_ARGS__;                    \
  } else {                          \
    using T = float;                \
    __VA_ARGS__;                    \
  }

}  // namespace

void launch_embedding(const std::int32_t* ids, std::int64_t rows, const void* table, std::int64_t dim, void* out,
                      std::int64_t ldo, bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  ARLE_DISPATCH(bf16, T,
                embedding_kernel<T><<<static_cast<unsigned>(rows), threads_for(dim), 0, as_stream(stream)>>>(
                    ids, static_cast<const T*>(table), dim, static_cast<T*>(out), ldo));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_rms_norm(const void* x, std::int64_t ldx, void* residual, std::int64_t ldr, bool residual_f32,
                     const void* w, void* out, std::int64_t ldo, std::int64_t rows, std::int64_t width, float eps,
                     bool offset, bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  const std::size_t smem = (static_cast<std::size_t>(width) + 32) * sizeof(float);
  const unsigned blocks = static_cast<unsigned>(rows);
  const bool wide = vector_aligned(4, width, ldx, ldr, ldo) && vector_aligned(16, x, residual, w, out);
  const int per_thread = wide ? 4 : 1;
  const int threads = static_cast<int>(std::min<std::int64_t>(1024, (width / per_thread + 31) / 32 * 32));
  auto run = [&](auto* kernel, auto* xt, auto* rt) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(xt)>>;
    allow_shared_memory(kernel, smem);
    kernel<<<blocks, threads, smem, as_stream(stream)>>>(
        xt, ldx, rt, ldr, static_cast<const T*>(w), static_cast<T*>(out), ldo, static_cast<int>(width), eps, offset);
  };
  using B = __nv_bfloat16;
  const auto* xb = static_cast<const B*>(x);
  const auto* xf = static_cast<const float*>(x);
  if (bf16 && residual_f32) {
    wide ? run(rms_norm_kernel<B, float, 4>, xb, static_cast<float*>(residual))
         : run(rms_norm_kernel<B, float, 1>, xb, static_cast<float*>(residual));
  } else if (bf16) {
    wide ? run(rms_norm_kernel<B, B, 4>, xb, static_cast<B*>(residual))
         : run(rms_norm_kernel<B, B, 1>, xb, static_cast<B*>(residual));
  } else {
    wide ? run(rms_norm_kernel<float, float, 4>, xf, static_cast<float*>(residual))
         : run(rms_norm_kernel<float, float, 1>, xf, static_cast<float*>(residual));
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_head_norm_rope(void* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                           const void* norm_w, float eps, bool norm_offset, const float* cos, const float* sin,
                           std::int64_t rotary_dim, bool neox, bool bf16, CUstream_st* stream) {
  if (rows == 0 || heads == 0) return;
  const auto blocks = static_cast<unsigned>((rows * heads + kHeadsPerBlock - 1) / kHeadsPerBlock);
  const std::size_t smem = static_cast<std::size_t>(kHeadsPerBlock) * head_dim * sizeof(float);
  ARLE_DISPATCH(bf16, T, allow_shared_memory(head_norm_rope_kernel<T>, smem));
  ARLE_DISPATCH(
      bf16, T,
      head_norm_rope_kernel<T><<<blocks, kHeadsPerBlock * 32, smem, as_stream(stream)>>>(
          static_cast<T*>(x), ldx, static_cast<int>(rows), static_cast<int>(heads), static_cast<int>(head_dim),
          static_cast<const T*>(norm_w), eps, norm_offset, cos, sin, static_cast<int>(rotary_dim), neox));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_qkv_norm_rope_write(void* qkv, std::int64_t ld, std::int64_t rows, std::int64_t q_heads,
                                std::int64_t kv_heads, std::int64_t head_dim, const void* q_norm, const void* k_norm,
                                float eps, bool norm_offset, const float* cos, const float* sin,
                                std::int64_t rotary_dim, bool neox, const PagedMeta& meta, void* k_cache, void* v_cache,
                                bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  const std::int64_t items = rows * (q_heads + 2 * kv_heads);
  const auto blocks = static_cast<unsigned>((items + kHeadsPerBlock - 1) / kHeadsPerBlock);
  const std::size_t smem = static_cast<std::size_t>(kHeadsPerBlock) * head_dim * sizeof(float);
  ARLE_DISPATCH(bf16, T, allow_shared_memory(qkv_norm_rope_write_kernel<T>, smem));
  ARLE_DISPATCH(
      bf16, T,
      qkv_norm_rope_write_kernel<T><<<blocks, kHeadsPerBlock * 32, smem, as_stream(stream)>>>(
          static_cast<T*>(qkv), ld, static_cast<int>(rows), static_cast<int>(q_heads), static_cast<int>(kv_heads),
          static_cast<int>(head_dim), static_cast<const T*>(q_norm), static_cast<const T*>(k_norm), eps, norm_offset,
          cos, sin, static_cast<int>(rotary_dim), neox, meta, static_cast<T*>(k_cache), static_cast<T*>(v_cache)));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_silu_and_mul(const void* in, std::int64_t ldi, void* out, std::int64_t ldo, std::int64_t rows,
                         std::int64_t d, bool bf16, CUstream_st* stream) {
  if (rows == 0 || d == 0) return;
  const int threads = 256;
  const int pack = bf16 ? 8 : 4;  // 16 bytes
  const bool wide = vector_aligned(pack, d, ldi, ldo) && vector_aligned(16, in, out);
  const int per_thread = wide ? pack : 1;
  const dim3 grid(static_cast<unsigned>((d / per_thread + threads - 1) / threads), static_cast<unsigned>(rows));
  const auto width = static_cast<int>(d);
  if (bf16) {
    using T = __nv_bfloat16;
    const auto* i = static_cast<const T*>(in);
    auto* o = static_cast<T*>(out);
    wide ? silu_and_mul_kernel<T, 8><<<grid, threads, 0, as_stream(stream)>>>(i, ldi, o, ldo, width)
         : silu_and_mul_kernel<T, 1><<<grid, threads, 0, as_stream(stream)>>>(i, ldi, o, ldo, width);
  } else {
    const auto* i = static_cast<const float*>(in);
    auto* o = static_cast<float*>(out);
    wide ? silu_and_mul_kernel<float, 4><<<grid, threads, 0, as_stream(stream)>>>(i, ldi, o, ldo, width)
         : silu_and_mul_kernel<float, 1><<<grid, threads, 0, as_stream(stream)>>>(i, ldi, o, ldo, width);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_add(void* x, const void* y, std::int64_t n, bool bf16, CUstream_st* stream) {
  if (n == 0) return;
  const int threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::int64_t>((n + threads - 1) / threads, 65535));
  ARLE_DISPATCH(bf16, T,
                add_kernel<T>
                <<<blocks, threads, 0, as_stream(stream)>>>(static_cast<T*>(x), static_cast<const T*>(y), n));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_combine_rows(const void* y, const std::int32_t* index, const float* weights, std::int64_t rows,
                         std::int64_t k, std::int64_t width, void* out, bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  ARLE_DISPATCH(bf16, T,
                combine_rows_kernel<T><<<static_cast<unsigned>(rows), threads_for(width), 0, as_stream(stream)>>>(
                    static_cast<const T*>(y), index, weights, k, width, static_cast<T*>(out)));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
