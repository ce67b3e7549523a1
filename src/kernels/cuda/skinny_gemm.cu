// Skinny GEMMs: y[M, N] = x[M, K] * w[N, K]^T (+ bias) for M <= 8, bf16 in,
// float32 accumulation, bf16 or float32 out. Decode steps are this shape and
// purely memory bound (every weight byte read once per step); cuBLASLt's
// tiles for them left half the HBM bandwidth unused on an H100. Each warp
// owns kCols output columns and streams their weight rows in 16-byte loads,
// several in flight per lane; x rows come through the L1 cache.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

constexpr int kWarps = 4;

__device__ __forceinline__ void unpack8(const uint4& v, float (&f)[8]) {
  const auto* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 p = __bfloat1622float2(h[i]);
    f[2 * i] = p.x;
    f[2 * i + 1] = p.y;
  }
}

__device__ __forceinline__ void store_out(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
__device__ __forceinline__ void store_out(float* p, float v) { *p = v; }

// kGated: w is [gate; up] (2 n_size rows) and a warp's two columns are
// gate row j and up row n_size + j; it writes silu(gate) * up to column j.
template <int M, int kCols, bool kGated, typename Out>
__global__ void __launch_bounds__(kWarps * 32)
    skinny_gemm_kernel(const __nv_bfloat16* __restrict__ x, std::int64_t ldx, const __nv_bfloat16* __restrict__ w,
                       std::int64_t k_size, std::int64_t n_size, const __nv_bfloat16* __restrict__ bias,
                       Out* __restrict__ out, std::int64_t ldo) {
  static_assert(!kGated || kCols == 2, "a gated warp owns one gate and one up row");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const std::int64_t n0 = (static_cast<std::int64_t>(blockIdx.x) * kWarps + warp) * (kGated ? 1 : kCols);
  if (n0 >= n_size) return;
  // Weight row of column c; out of range rows read as zero.
  const auto row = [&](int c) { return kGated ? n0 + c * n_size : n0 + c; };
  const auto live = [&](int c) { return kGated || n0 + c < n_size; };
  float acc[kCols][M];
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
#pragma unroll
    for (int m = 0; m < M; ++m) acc[c][m] = 0.0f;
  }
#pragma unroll 4
  for (std::int64_t k = lane * 8; k < k_size; k += 32 * 8) {
    uint4 wv[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      wv[c] = live(c) ? __ldcs(reinterpret_cast<const uint4*>(w + row(c) * k_size + k)) : uint4{0, 0, 0, 0};
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
      float xf[8];
      unpack8(__ldg(reinterpret_cast<const uint4*>(x + m * ldx + k)), xf);
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        float wf[8];
        unpack8(wv[c], wf);
#pragma unroll
        for (int i = 0; i < 8; ++i) acc[c][m] += xf[i] * wf[i];
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
#pragma unroll
    for (int m = 0; m < M; ++m) {
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) acc[c][m] += __shfl_xor_sync(0xffffffffu, acc[c][m], o);
    }
  }
  if (lane != 0) return;
  if constexpr (kGated) {
    const float bg = bias ? __bfloat162float(bias[n0]) : 0.0f, bu = bias ? __bfloat162float(bias[n0 + n_size]) : 0.0f;
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float g = acc[0][m] + bg;
      store_out(out + m * ldo + n0, g / (1.0f + __expf(-g)) * (acc[1][m] + bu));
    }
  } else {
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const std::int64_t n = n0 + c;
      if (n >= n_size) continue;
      const float b = bias ? __bfloat162float(bias[n]) : 0.0f;
#pragma unroll
      for (int m = 0; m < M; ++m) store_out(out + m * ldo + n, acc[c][m] + b);
    }
  }
}

template <int M, typename Out>
void launch_rows(const __nv_bfloat16* x, std::int64_t ldx, const __nv_bfloat16* w, std::int64_t k, std::int64_t n,
                 const __nv_bfloat16* bias, Out* out, std::int64_t ldo, bool gated, cudaStream_t stream) {
  const auto blocks_of = [](std::int64_t columns) { return static_cast<unsigned>((columns + kWarps - 1) / kWarps); };
  if (gated) {
    skinny_gemm_kernel<M, 2, true, Out><<<blocks_of(n), kWarps * 32, 0, stream>>>(x, ldx, w, k, n, bias, out, ldo);
  } else if (n >= 8192) {
    // Two columns per warp where there are plenty of them (more bytes in
    // flight per lane), one where blocks would otherwise be too few.
    skinny_gemm_kernel<M, 2, false, Out>
        <<<blocks_of((n + 1) / 2), kWarps * 32, 0, stream>>>(x, ldx, w, k, n, bias, out, ldo);
  } else {
    skinny_gemm_kernel<M, 1, false, Out><<<blocks_of(n), kWarps * 32, 0, stream>>>(x, ldx, w, k, n, bias, out, ldo);
  }
}

// launch_rows<M> for the runtime row count m (M counts up to kSkinnyRows).
template <typename Out, int M = 1>
void dispatch(std::int64_t m, const __nv_bfloat16* x, std::int64_t ldx, const __nv_bfloat16* w, std::int64_t k,
              std::int64_t n, const __nv_bfloat16* bias, Out* out, std::int64_t ldo, bool g, cudaStream_t s) {
  if constexpr (M < kSkinnyRows) {
    if (m > M) return dispatch<Out, M + 1>(m, x, ldx, w, k, n, bias, out, ldo, g, s);
  }
  launch_rows<M>(x, ldx, w, k, n, bias, out, ldo, g, s);
}

}  // namespace

void launch_skinny_gemm(const void* x, std::int64_t ldx, const void* w, std::int64_t m, std::int64_t n, std::int64_t k,
                        const void* bias, void* out, std::int64_t ldo, bool f32_out, bool gated, CUstream_st* stream) {
  if (m == 0 || n == 0) return;
  const auto* xb = static_cast<const __nv_bfloat16*>(x);
  const auto* wb = static_cast<const __nv_bfloat16*>(w);
  const auto* bb = static_cast<const __nv_bfloat16*>(bias);
  const auto s = reinterpret_cast<cudaStream_t>(stream);
  if (f32_out) {
    dispatch(m, xb, ldx, wb, k, n, bb, static_cast<float*>(out), ldo, gated, s);
  } else {
    dispatch(m, xb, ldx, wb, k, n, bb, static_cast<__nv_bfloat16*>(out), ldo, gated, s);
  }
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
