// Qwen3.5's linear-attention kernels (gated_deltanet.h says what each
// computes). Float32 math throughout, in the CPU kernels' order of
// operations, so the two agree to float32 rounding.
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <algorithm>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_helpers.cuh"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

cudaStream_t as_stream(CUstream_st* s) { return reinterpret_cast<cudaStream_t>(s); }

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// torch.nn.functional.softplus with its default threshold of 20.
__device__ __forceinline__ float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// One thread per (row, channel): the K taps over [window | the sequence's rows].
template <typename T>
__global__ void conv1d_silu_kernel(const T* x, std::int64_t ldx, StateRows rows, int channels, const float* w,
                                   int kernel, const float* windows, float* out, std::int64_t ldo) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  const std::int64_t r = blockIdx.y;
  if (c >= channels) return;
  const int s = rows.row_seq[r];
  const std::int64_t begin = rows.seq_begin[s], t = r - begin;
  const int history = kernel - 1;
  if (rows.seq_slot[s] < 0) {  // a padding row (CUDA graph)
    out[r * ldo + c] = 0.0f;
    return;
  }
  const float* window = windows + static_cast<std::int64_t>(rows.seq_slot[s]) * history * channels;
  float sum = 0.0f;
  for (int i = 0; i < kernel; ++i) {
    const std::int64_t p = t + i;  // in [window | rows]
    const float in = p < history ? window[p * channels + c] : load(x + (begin + p - history) * ldx + c);
    sum += w[static_cast<std::int64_t>(c) * kernel + i] * in;
  }
  out[r * ldo + c] = sum / (1.0f + expf(-sum));
}

// One thread per (sequence, channel): the window becomes the last K - 1
// rows of [window | rows]. Row i of the new window reads row n + i >= i of
// the old extended sequence, so ascending i never reads what it overwrote.
template <typename T>
__global__ void conv1d_window_kernel(const T* x, std::int64_t ldx, StateRows rows, int channels, int kernel,
                                     float* windows) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  const int s = blockIdx.y;
  if (c >= channels) return;
  const int history = kernel - 1;
  if (rows.seq_slot[s] < 0) return;  // padding
  const std::int64_t begin = rows.seq_begin[s], n = rows.seq_begin[s + 1] - begin;
  float* window = windows + static_cast<std::int64_t>(rows.seq_slot[s]) * history * channels;
  for (int i = 0; i < history; ++i) {
    const std::int64_t p = n + i;
    window[static_cast<std::int64_t>(i) * channels + c] =
        p < history ? window[p * channels + c] : load(x + (begin + p - history) * ldx + c);
  }
}

// A warp per q or k head of a row (L2 norm), then a thread per value head's gates.
template <typename T>
__global__ void gates_kernel(float* mixed, std::int64_t ldm, int key_heads, int key_dim, const T* b, const T* a,
                             std::int64_t ldp, int value_heads, const float* neg_exp_a, const float* dt_bias,
                             float* beta, float* g) {
  const std::int64_t r = blockIdx.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  const float q_scale = 1.0f / sqrtf(static_cast<float>(key_dim));
  for (int h = warp; h < 2 * key_heads; h += warps) {
    float* head = mixed + r * ldm + static_cast<std::int64_t>(h) * key_dim;
    float sum = 0.0f;
    for (int i = lane; i < key_dim; i += 32) sum += head[i] * head[i];
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = (h < key_heads ? q_scale : 1.0f) / sqrtf(sum + 1e-6f);
    for (int i = lane; i < key_dim; i += 32) head[i] *= inv;
  }
  for (int h = threadIdx.x; h < value_heads; h += blockDim.x) {
    beta[r * value_heads + h] = sigmoidf(load(b + r * ldp + h));
    g[r * value_heads + h] = neg_exp_a[h] * softplusf(load(a + r * ldp + h) + dt_bias[h]);
  }
}

// A block per (sequence, value head, tile of 128 value columns); thread j
// keeps column j of the head's state (key_dim floats) in registers and
// walks the sequence's rows:
//   S <- exp(g) S;  u = beta (v - S^T k);  S <- S + k u^T;  o = S^T q.
// The walk is latency-bound, so the next row's inputs are loaded while the
// current one is computed (q and k through a double-buffered shared
// array, one barrier a row), and the two dot products run in four
// independent partial sums.
constexpr int kColumnsPerBlock = 128;

// What a thread stages of one row: its share of q and k, its column's v,
// and the row's decay and beta.
template <int KMax>
struct DeltaRuleRow {
  float q[KMax / 32], k[KMax / 32];
  float v, decay, beta;
};

struct DeltaRuleShape {
  const float* mixed;
  std::int64_t ldm, key_width;
  int key_dim, value_heads, value_dim, head, key_head, column;
  const float* g;
  const float* beta;
};

template <int KMax>
__device__ __forceinline__ void load_row(DeltaRuleRow<KMax>& in, const DeltaRuleShape& d, std::int64_t t) {
  const float* row = d.mixed + t * d.ldm;
#pragma unroll
  for (int m = 0; m < KMax / 32; ++m) {
    const int i = threadIdx.x + m * blockDim.x;
    if (i < d.key_dim) {
      in.q[m] = row[static_cast<std::int64_t>(d.key_head) * d.key_dim + i];
      in.k[m] = row[d.key_width + static_cast<std::int64_t>(d.key_head) * d.key_dim + i];
    }
  }
  in.v =
      d.column < d.value_dim ? row[2 * d.key_width + static_cast<std::int64_t>(d.head) * d.value_dim + d.column] : 0.0f;
  in.decay = expf(d.g[t * d.value_heads + d.head]);
  in.beta = d.beta[t * d.value_heads + d.head];
}

template <int KMax>
__device__ __forceinline__ void stage_row(const DeltaRuleRow<KMax>& in, int key_dim, float* q, float* k) {
#pragma unroll
  for (int m = 0; m < KMax / 32; ++m) {
    const int i = threadIdx.x + m * blockDim.x;
    if (i < key_dim) {
      q[i] = in.q[m];
      k[i] = in.k[m];
    }
  }
}

template <int KMax>
__global__ void delta_rule_kernel(const float* mixed, std::int64_t ldm, int key_heads, int key_dim, int value_heads,
                                  int value_dim, const float* g, const float* beta, StateRows rows, float* state,
                                  float* out, std::int64_t ldo, bool single_rows_only) {
  __shared__ float q_shared[2][KMax], k_shared[2][KMax];
  const int s = blockIdx.x, h = blockIdx.y;
  const int j = blockIdx.z * kColumnsPerBlock + threadIdx.x;
  const bool active = j < value_dim;
  const DeltaRuleShape d{mixed,
                         ldm,
                         static_cast<std::int64_t>(key_heads) * key_dim,
                         key_dim,
                         value_heads,
                         value_dim,
                         h,
                         h / (value_heads / key_heads),
                         j,
                         g,
                         beta};
  if (single_rows_only && rows.seq_begin[s + 1] - rows.seq_begin[s] > 1) return;  // the chunked form's
  if (rows.seq_slot[s] < 0) {                                                     // padding rows: zeros, no state
    for (std::int64_t t = rows.seq_begin[s]; t < rows.seq_begin[s + 1]; ++t) {
      if (active) out[t * ldo + static_cast<std::int64_t>(h) * value_dim + j] = 0.0f;
    }
    return;
  }
  float* S = state + (static_cast<std::int64_t>(rows.seq_slot[s]) * value_heads + h) * key_dim * value_dim;
  float column[KMax];
#pragma unroll
  for (int i = 0; i < KMax; ++i)
    column[i] = active && i < key_dim ? S[static_cast<std::int64_t>(i) * value_dim + j] : 0.0f;
  const std::int64_t begin = rows.seq_begin[s], end = rows.seq_begin[s + 1];
  DeltaRuleRow<KMax> next;  // the row after the one being computed
  float v = 0.0f, decay = 1.0f, b = 0.0f;
  if (begin < end) {
    load_row(next, d, begin);
    stage_row(next, key_dim, q_shared[0], k_shared[0]);
    v = next.v;
    decay = next.decay;
    b = next.beta;
    if (begin + 1 < end) load_row(next, d, begin + 1);
  }
  __syncthreads();
  for (std::int64_t t = begin; t < end; ++t) {
    const int buffer = static_cast<int>((t - begin) & 1);
    const float* q = q_shared[buffer];
    const float* k = k_shared[buffer];
    float kv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int i = 0; i < KMax; ++i) {
      if (i < key_dim) {
        column[i] *= decay;
        kv[i & 3] += k[i] * column[i];
      }
    }
    const float u = b * (v - ((kv[0] + kv[1]) + (kv[2] + kv[3])));
    float o[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int i = 0; i < KMax; ++i) {
      if (i < key_dim) {
        column[i] += k[i] * u;
        o[i & 3] += q[i] * column[i];
      }
    }
    if (active) out[t * ldo + static_cast<std::int64_t>(h) * value_dim + j] = (o[0] + o[1]) + (o[2] + o[3]);
    if (t + 1 < end) {
      // Everyone finished reading the other buffer before the last barrier.
      stage_row(next, key_dim, q_shared[buffer ^ 1], k_shared[buffer ^ 1]);
      v = next.v;
      decay = next.decay;
      b = next.beta;
      if (t + 2 < end) load_row(next, d, t + 2);
    }
    __syncthreads();
  }
  if (!active) return;
#pragma unroll
  for (int i = 0; i < KMax; ++i) {
    if (i < key_dim) S[static_cast<std::int64_t>(i) * value_dim + j] = column[i];
  }
}

// A warp per (row, head): RMSNorm over head_dim, times w and silu(z).
template <typename T>
__global__ void gated_rms_norm_kernel(const float* core, std::int64_t ldc, const T* z, std::int64_t ldz, const float* w,
                                      int heads, int head_dim, float eps, T* out, std::int64_t ldo) {
  const std::int64_t r = blockIdx.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int h = warp; h < heads; h += warps) {
    const std::int64_t at = static_cast<std::int64_t>(h) * head_dim;
    const float* c = core + r * ldc + at;
    float sum = 0.0f;
    for (int i = lane; i < head_dim; i += 32) sum += c[i] * c[i];
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = 1.0f / sqrtf(sum / static_cast<float>(head_dim) + eps);
    for (int i = lane; i < head_dim; i += 32) {
      const float gate = load(z + r * ldz + at + i);
      store(out + r * ldo + at + i, c[i] * inv * w[i] * (gate / (1.0f + expf(-gate))));
    }
  }
}

template <typename T>
__global__ void sigmoid_mul_kernel(T* x, std::int64_t ldx, const T* gate, std::int64_t ldg, int width) {
  const std::int64_t r = blockIdx.y;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < width; i += gridDim.x * blockDim.x) {
    store(x + r * ldx + i, load(x + r * ldx + i) * sigmoidf(load(gate + r * ldg + i)));
  }
}

template <typename T>
__global__ void add_sigmoid_scaled_kernel(T* x, std::int64_t ldx, const T* y, std::int64_t ldy, const float* gate,
                                          std::int64_t ldg, int width) {
  const std::int64_t r = blockIdx.y;
  const float scale = sigmoidf(gate[r * ldg]);
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < width; i += gridDim.x * blockDim.x) {
    store(x + r * ldx + i, load(x + r * ldx + i) + scale * load(y + r * ldy + i));
  }
}

unsigned blocks_for(std::int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace

void launch_causal_conv1d_silu(const void* x, std::int64_t ldx, const StateRows& rows, std::int64_t channels,
                               const float* w, std::int64_t kernel, float* windows, float* out, std::int64_t ldo,
                               bool bf16, CUstream_st* stream) {
  if (rows.rows == 0 || channels == 0) return;
  const int threads = 256;
  const dim3 conv_grid(blocks_for(channels, threads), static_cast<unsigned>(rows.rows));
  const dim3 window_grid(blocks_for(channels, threads), static_cast<unsigned>(rows.sequences));
  const auto c = static_cast<int>(channels), k = static_cast<int>(kernel);
  const cudaStream_t s = as_stream(stream);
  // Every output reads the old window before the second kernel moves it on.
  if (bf16) {
    const auto* in = static_cast<const __nv_bfloat16*>(x);
    conv1d_silu_kernel<<<conv_grid, threads, 0, s>>>(in, ldx, rows, c, w, k, windows, out, ldo);
    if (k > 1) conv1d_window_kernel<<<window_grid, threads, 0, s>>>(in, ldx, rows, c, k, windows);
  } else {
    const auto* in = static_cast<const float*>(x);
    conv1d_silu_kernel<<<conv_grid, threads, 0, s>>>(in, ldx, rows, c, w, k, windows, out, ldo);
    if (k > 1) conv1d_window_kernel<<<window_grid, threads, 0, s>>>(in, ldx, rows, c, k, windows);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_gdn_gates(float* mixed, std::int64_t ldm, std::int64_t rows, std::int64_t key_heads, std::int64_t key_dim,
                      const void* b, const void* a, std::int64_t ldp, std::int64_t value_heads, const float* neg_exp_a,
                      const float* dt_bias, float* beta, float* g, bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  const int threads = 256;
  const auto grid = static_cast<unsigned>(rows);
  const auto kh = static_cast<int>(key_heads), kd = static_cast<int>(key_dim), vh = static_cast<int>(value_heads);
  if (bf16) {
    gates_kernel<<<grid, threads, 0, as_stream(stream)>>>(mixed, ldm, kh, kd, static_cast<const __nv_bfloat16*>(b),
                                                          static_cast<const __nv_bfloat16*>(a), ldp, vh, neg_exp_a,
                                                          dt_bias, beta, g);
  } else {
    gates_kernel<<<grid, threads, 0, as_stream(stream)>>>(mixed, ldm, kh, kd, static_cast<const float*>(b),
                                                          static_cast<const float*>(a), ldp, vh, neg_exp_a, dt_bias,
                                                          beta, g);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_gated_delta_rule(const float* mixed, std::int64_t ldm, std::int64_t key_heads, std::int64_t key_dim,
                             std::int64_t value_heads, std::int64_t value_dim, const float* g, const float* beta,
                             const StateRows& rows, float* state, float* out, std::int64_t ldo, bool single_rows_only,
                             CUstream_st* stream) {
  if (rows.sequences == 0) return;
  const int threads = static_cast<int>(std::min<std::int64_t>((value_dim + 31) / 32 * 32, kColumnsPerBlock));
  const dim3 grid(static_cast<unsigned>(rows.sequences), static_cast<unsigned>(value_heads),
                  blocks_for(value_dim, kColumnsPerBlock));
  const auto kh = static_cast<int>(key_heads), kd = static_cast<int>(key_dim);
  const auto vh = static_cast<int>(value_heads), vd = static_cast<int>(value_dim);
  // Small key dims (the tiny fixtures') keep fewer registers.
  if (key_dim <= 32) {
    delta_rule_kernel<32><<<grid, threads, 0, as_stream(stream)>>>(mixed, ldm, kh, kd, vh, vd, g, beta, rows, state,
                                                                   out, ldo, single_rows_only);
  } else {
    delta_rule_kernel<128><<<grid, threads, 0, as_stream(stream)>>>(mixed, ldm, kh, kd, vh, vd, g, beta, rows, state,
                                                                    out, ldo, single_rows_only);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_gated_rms_norm(const float* core, std::int64_t ldc, const void* z, std::int64_t ldz, const float* w,
                           std::int64_t rows, std::int64_t heads, std::int64_t head_dim, float eps, void* out,
                           std::int64_t ldo, bool bf16, CUstream_st* stream) {
  if (rows == 0) return;
  const int threads = 256;
  const auto grid = static_cast<unsigned>(rows);
  const auto h = static_cast<int>(heads), d = static_cast<int>(head_dim);
  if (bf16) {
    using T = __nv_bfloat16;
    gated_rms_norm_kernel<<<grid, threads, 0, as_stream(stream)>>>(core, ldc, static_cast<const T*>(z), ldz, w, h, d,
                                                                   eps, static_cast<T*>(out), ldo);
  } else {
    gated_rms_norm_kernel<<<grid, threads, 0, as_stream(stream)>>>(core, ldc, static_cast<const float*>(z), ldz, w, h,
                                                                   d, eps, static_cast<float*>(out), ldo);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_sigmoid_mul(void* x, std::int64_t ldx, const void* gate, std::int64_t ldg, std::int64_t rows,
                        std::int64_t width, bool bf16, CUstream_st* stream) {
  if (rows == 0 || width == 0) return;
  const int threads = 256;
  const dim3 grid(blocks_for(width, threads), static_cast<unsigned>(rows));
  const auto n = static_cast<int>(width);
  if (bf16) {
    using T = __nv_bfloat16;
    sigmoid_mul_kernel<<<grid, threads, 0, as_stream(stream)>>>(static_cast<T*>(x), ldx, static_cast<const T*>(gate),
                                                                ldg, n);
  } else {
    sigmoid_mul_kernel<<<grid, threads, 0, as_stream(stream)>>>(static_cast<float*>(x), ldx,
                                                                static_cast<const float*>(gate), ldg, n);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

void launch_add_sigmoid_scaled(void* x, std::int64_t ldx, const void* y, std::int64_t ldy, const float* gate,
                               std::int64_t ldg, std::int64_t rows, std::int64_t width, bool bf16,
                               CUstream_st* stream) {
  if (rows == 0 || width == 0) return;
  const int threads = 256;
  const dim3 grid(blocks_for(width, threads), static_cast<unsigned>(rows));
  const auto n = static_cast<int>(width);
  if (bf16) {
    using T = __nv_bfloat16;
    add_sigmoid_scaled_kernel<<<grid, threads, 0, as_stream(stream)>>>(static_cast<T*>(x), ldx,
                                                                       static_cast<const T*>(y), ldy, gate, ldg, n);
  } else {
    add_sigmoid_scaled_kernel<<<grid, threads, 0, as_stream(stream)>>>(static_cast<float*>(x), ldx,
                                                                       static_cast<const float*>(y), ldy, gate, ldg, n);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
