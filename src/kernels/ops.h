#pragma once
// ops: the operations model code is written against. Each checks shapes and
// dtypes, then runs the kernel for the tensors' device (CPU today; the CUDA
// backend adds its kernels behind the same calls). Activations are float32
// 2-D tensors [rows, width] whose rows may be strided views (narrow_cols of a
// fused projection); weights are contiguous float32.

#include <cstdint>
#include <vector>

#include "kernels/cpu/rope.h"
#include "tensor/tensor.h"

namespace arle::ops {

using kernels::cpu::RopeLayout;

// [M, K] x [N, K]^T (+ bias [N]) -> new [M, N].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = {});
// Row gather from an embedding table [V, D] -> new [ids, D]. Ids are checked.
Tensor embedding(const Tensor& table, const std::vector<std::int32_t>& ids);
// Rows of x in the given order -> new [rows.size(), width].
Tensor gather_rows(const Tensor& x, const std::vector<std::int32_t>& rows);
// RMSNorm of every row -> new tensor (offset: weight is 1 + w).
Tensor rms_norm(const Tensor& x, const Tensor& w, float eps, bool offset = false);
// RMSNorm of each head_dim-wide slice of every row, in place (Qwen3 q/k norm).
void rms_norm_heads(const Tensor& x, const Tensor& w, float eps, bool offset = false);
// Rotates each head of every row in place; cos/sin are [rows, rotary_dim/2].
void rope(const Tensor& x, std::int64_t head_dim, const Tensor& cos, const Tensor& sin, RopeLayout layout);
// [rows, 2d] laid out [gate | up] -> new [rows, d].
Tensor silu_and_mul(const Tensor& gate_up);
// x += y, element-wise, in place.
void add(const Tensor& x, const Tensor& y);
// x += scale[r] * y for row r (MoE: expert output weighted per token).
void add_scaled_rows(const Tensor& x, const Tensor& y, const std::vector<float>& scale);

// Paged KV cache access; see kernels/cpu/paged_attention.h for the layout.
struct PagedRows {
  std::vector<const std::int32_t*> page_tables;  // per row
  std::vector<std::int64_t> positions;           // per row
  std::vector<std::int64_t> context_lens;        // per row: position + 1
};
void paged_kv_write(const Tensor& k, const Tensor& v, const PagedRows& rows, const Tensor& k_cache,
                    const Tensor& v_cache);
// q [rows, q_heads * head_dim] -> new [rows, q_heads * head_dim].
Tensor paged_attention(const Tensor& q, const PagedRows& rows, const Tensor& k_cache, const Tensor& v_cache,
                       std::int64_t q_heads, float scale);

struct MoeRouting {
  std::vector<std::int32_t> expert_ids;  // [rows, k]
  std::vector<float> weights;            // [rows, k]
};
MoeRouting moe_route(const Tensor& router_logits, std::int64_t k, bool normalize);

}  // namespace arle::ops
