// ARLE's own element-wise and per-row CUDA kernels (see kernels.h): float32
// math on float32 or bf16 storage, one block per row (or per row and head),
// warp-shuffle reductions.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>

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
// layers; or T).
template <typename T, typename R>
__global__ void rms_norm_kernel(const T* x, std::int64_t ldx, R* residual, std::int64_t ldr, const T* w, T* out,
                                std::int64_t ldo, std::int64_t width, float eps, bool offset) {
  extern __shared__ float row[];  // width floats, then 32 for the reduction
  float* scratch = row + width;
  const std::int64_t r = blockIdx.x;
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    float v = load(x + r * ldx + i);
    if (residual) {
      v += load(residual + r * ldr + i);
      store(residual + r * ldr + i, v);
    }
    row[i] = v;
    sum += v * v;
  }
  const float inv = rsqrtf(block_sum(sum, scratch) / static_cast<float>(width) + eps);
  for (std::int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    const float g = load(w + i);
    store(out + r * ldo + i, row[i] * inv * (offset ? 1.0f + g : g));
  }
}

// Loads one head into shared memory (`head`, head_dim floats) and applies
// RMSNorm with norm_w when given; every thread must call it.
template <typename T>
__device__ void load_normed_head(const T* v, std::int64_t head_dim, const T* norm_w, float eps, bool norm_offset,
                                 float* head, float* scratch) {
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < head_dim; i += blockDim.x) {
    head[i] = load(v + i);
    sum += head[i] * head[i];
  }
  if (norm_w) {
    const float inv = rsqrtf(block_sum(sum, scratch) / static_cast<float>(head_dim) + eps);
    for (std::int64_t i = threadIdx.x; i < head_dim; i += blockDim.x) {
      const float g = load(norm_w + i);
      head[i] = head[i] * inv * (norm_offset ? 1.0f + g : g);
    }
  }
  __syncthreads();
}

// Element i of the loaded head after RoPE with the row's cos/sin.
__device__ __forceinline__ float rotated(const float* head, std::int64_t i, const float* c, const float* s,
                                         std::int64_t rotary_dim, bool neox) {
  if (i >= rotary_dim) return head[i];
  const std::int64_t half = rotary_dim / 2;
  if (neox) {
    const std::int64_t k = i < half ? i : i - half;
    return i < half ? head[i] * c[k] - head[i + half] * s[k] : head[i] * c[k] + head[i - half] * s[k];
  }
  const std::int64_t k = i / 2;
  return (i & 1) == 0 ? head[i] * c[k] - head[i + 1] * s[k] : head[i] * c[k] + head[i - 1] * s[k];
}

template <typename T>
__global__ void head_norm_rope_kernel(T* x, std::int64_t ldx, std::int64_t heads, std::int64_t head_dim,
                                      const T* norm_w, float eps, bool norm_offset, const float* cos, const float* sin,
                                      std::int64_t rotary_dim, bool neox) {
  extern __shared__ float head[];  // head_dim floats, then 32 for the reduction
  const std::int64_t r = blockIdx.x, h = blockIdx.y;
  T* v = x + r * ldx + h * head_dim;
  load_normed_head(v, head_dim, norm_w, eps, norm_offset, head, head + head_dim);
  const float* c = cos + r * (rotary_dim / 2);
  const float* s = sin + r * (rotary_dim / 2);
  for (std::int64_t i = threadIdx.x; i < head_dim; i += blockDim.x)
    store(v + i, rotated(head, i, c, s, rotary_dim, neox));
}

// One block per (row, head of q | k | v): q heads normed and rotated in
// place, k heads normed and rotated into their cache slot, v heads copied to
// theirs (padding rows, at position -1, write no cache).
template <typename T>
__global__ void qkv_norm_rope_write_kernel(T* qkv, std::int64_t ld, std::int64_t q_heads, std::int64_t kv_heads,
                                           std::int64_t head_dim, const T* q_norm, const T* k_norm, float eps,
                                           bool norm_offset, const float* cos, const float* sin,
                                           std::int64_t rotary_dim, bool neox, PagedMeta meta, T* k_cache, T* v_cache) {
  extern __shared__ float head[];
  const std::int64_t r = blockIdx.x, h = blockIdx.y;
  T* v = qkv + r * ld + h * head_dim;
  const std::int64_t position = meta.positions[r], kv_width = kv_heads * head_dim;
  const std::int64_t slot = position >= 0 ? paged_slot(meta, r, position) : -1;
  if (h >= q_heads + kv_heads) {
    if (slot < 0) return;
    T* dst = v_cache + slot * kv_width + (h - q_heads - kv_heads) * head_dim;
    for (std::int64_t i = threadIdx.x; i < head_dim; i += blockDim.x) dst[i] = v[i];
    return;
  }
  const bool is_q = h < q_heads;
  load_normed_head(v, head_dim, is_q ? q_norm : k_norm, eps, norm_offset, head, head + head_dim);
  T* dst = is_q ? v : (slot >= 0 ? k_cache + slot * kv_width + (h - q_heads) * head_dim : nullptr);
  if (!dst) return;
  const float* c = cos + r * (rotary_dim / 2);
  const float* s = sin + r * (rotary_dim / 2);
  for (std::int64_t i = threadIdx.x; i < head_dim; i += blockDim.x)
    store(dst + i, rotated(head, i, c, s, rotary_dim, neox));
}

template <typename T>
__global__ void silu_and_mul_kernel(const T* in, std::int64_t ldi, T* out, std::int64_t ldo, std::int64_t d) {
  const std::int64_t r = blockIdx.y;
  for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < d; i += gridDim.x * blockDim.x) {
    const float g = load(in + r * ldi + i);
    const float u = load(in + r * ldi + d + i);
    store(out + r * ldo + i, g / (1.0f + __expf(-g)) * u);
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
  const int threads = threads_for(width);
  if (bf16 && residual_f32) {
    using T = __nv_bfloat16;
    allow_shared_memory(rms_norm_kernel<T, float>, smem);
    rms_norm_kernel<T, float><<<blocks, threads, smem, as_stream(stream)>>>(
        static_cast<const T*>(x), ldx, static_cast<float*>(residual), ldr, static_cast<const T*>(w),
        static_cast<T*>(out), ldo, width, eps, offset);
  } else {
    ARLE_DISPATCH(bf16, T, allow_shared_memory(rms_norm_kernel<T, T>, smem));
    ARLE_DISPATCH(bf16, T,
                  rms_norm_kernel<T, T><<<blocks, threads, smem, as_stream(stream)>>>(
                      static_cast<const T*>(x), ldx, static_cast<T*>(residual), ldr, static_cast<const T*>(w),
                      static_cast<T*>(out), ldo, width, eps, offset));
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_head_norm_rope(void* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                           const void* norm_w, float eps, bool norm_offset, const float* cos, const float* sin,
                           std::int64_t rotary_dim, bool neox, bool bf16, CUstream_st* stream) {
  if (rows == 0 || heads == 0) return;
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(heads));
  const std::size_t smem = (static_cast<std::size_t>(head_dim) + 32) * sizeof(float);
  ARLE_DISPATCH(bf16, T, allow_shared_memory(head_norm_rope_kernel<T>, smem));
  ARLE_DISPATCH(bf16, T,
                head_norm_rope_kernel<T><<<grid, threads_for(head_dim), smem, as_stream(stream)>>>(
                    static_cast<T*>(x), ldx, heads, head_dim, static_cast<const T*>(norm_w), eps, norm_offset, cos, sin,
                    rotary_dim, neox));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_qkv_norm_rope_write(void* qkv, std::int64_t ld, std::int64_t rows, std::int64_t q_heads,
                                std::int64_t kv_heads, std::int64_t head_dim, const void* q_norm, const void* k_norm,
                                float eps, bool norm_offset, const float* cos, const float* sin,
                                std::int64_t rotary_dim, bool neox, const PagedMeta& meta, void* k_cache, void* v_cache,
                                bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(q_heads + 2 * kv_heads));
  const std::size_t smem = (static_cast<std::size_t>(head_dim) + 32) * sizeof(float);
  ARLE_DISPATCH(bf16, T, allow_shared_memory(qkv_norm_rope_write_kernel<T>, smem));
  ARLE_DISPATCH(bf16, T,
                qkv_norm_rope_write_kernel<T><<<grid, threads_for(head_dim), smem, as_stream(stream)>>>(
                    static_cast<T*>(qkv), ld, q_heads, kv_heads, head_dim, static_cast<const T*>(q_norm),
                    static_cast<const T*>(k_norm), eps, norm_offset, cos, sin, rotary_dim, neox, meta,
                    static_cast<T*>(k_cache), static_cast<T*>(v_cache)));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_silu_and_mul(const void* in, std::int64_t ldi, void* out, std::int64_t ldo, std::int64_t rows,
                         std::int64_t d, bool bf16, CUstream_st* stream) {
  if (rows == 0 || d == 0) return;
  const int threads = 256;
  const dim3 grid(static_cast<unsigned>((d + threads - 1) / threads), static_cast<unsigned>(rows));
  ARLE_DISPATCH(bf16, T,
                silu_and_mul_kernel<T><<<grid, threads, 0, as_stream(stream)>>>(static_cast<const T*>(in), ldi,
                                                                                static_cast<T*>(out), ldo, d));
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
