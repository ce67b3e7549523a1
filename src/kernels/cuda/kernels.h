#pragma once
// Launchers of ARLE's own CUDA kernels: raw device pointers and sizes, so
// that this header is plain C++17 for both nvcc and g++. Activations are
// float32 or bf16 (`bf16` picks), rows may be strided (`ld*`, in elements);
// all math is float32. Shapes are checked by the callers (cuda_ops.h).

#include <cstdint>

struct CUstream_st;

namespace arle::kernels::cuda {

// out[r, :] = table[ids[r], :]
void launch_embedding(const std::int32_t* ids, std::int64_t rows, const void* table, std::int64_t dim, void* out,
                      std::int64_t ldo, bool bf16, CUstream_st* stream);

// RMSNorm of each row: out = x / rms(x) * (offset ? 1 + w : w). With a
// residual, first residual = x + residual (stored), and the sum is normalized
// (vLLM's fused_add_rms_norm).
void launch_rms_norm(const void* x, std::int64_t ldx, void* residual, std::int64_t ldr, const void* w, void* out,
                     std::int64_t ldo, std::int64_t rows, std::int64_t width, float eps, bool offset, bool bf16,
                     CUstream_st* stream);

// Per head of each row, in place: optional RMSNorm over head_dim with
// norm_w (Qwen3 q/k norm; null skips it), then RoPE on the first rotary_dim
// components with cos/sin [rows, rotary_dim / 2] (float32). neox: pairs
// (i, i + rotary_dim/2), else (2i, 2i + 1).
void launch_head_norm_rope(void* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                           const void* norm_w, float eps, bool norm_offset, const float* cos, const float* sin,
                           std::int64_t rotary_dim, bool neox, bool bf16, CUstream_st* stream);

// [rows, 2d] laid out [gate | up] -> out[rows, d] = silu(gate) * up.
void launch_silu_and_mul(const void* in, std::int64_t ldi, void* out, std::int64_t ldo, std::int64_t rows,
                         std::int64_t d, bool bf16, CUstream_st* stream);

// x[i] += y[i] for n contiguous elements.
void launch_add(void* x, const void* y, std::int64_t n, bool bf16, CUstream_st* stream);

}  // namespace arle::kernels::cuda
