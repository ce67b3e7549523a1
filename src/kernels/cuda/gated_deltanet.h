#pragma once
// Qwen3.5's linear-attention (Gated DeltaNet) pieces on the GPU, the same
// math as the CPU's (kernels/cpu/causal_conv1d.h, kernels/cpu/
// gated_delta_rule.h and HybridLm::gated_deltanet): the causal conv1d + SiLU
// with its carried window, q/k L2 normalisation and the decay/beta gates,
// the gated delta rule over each sequence's rows, the gated RMSNorm, the
// sigmoid output gate of the full-attention layers and the MoE layers'
// gated shared expert. The recurrent state and
// windows are float32 ([slots, ...] as model/paged_kv_cache.h lays them
// out), and so are the conv output, gates and delta-rule output; the
// projections read and the norm writes the activations' dtype (bf16 or
// float32). Every call is enqueued on `stream` and returns at once.
//
// The delta rule has the CPU's two forms: a sequence of one row (decode)
// runs the recurrent form, each (sequence, value head) walking its rows with
// the state in registers; longer ones run the chunked (UT transform) form,
// chunks of 64 rows in parallel and only the state's recurrence sequential
// over them, when the caller gives scratch for it.

#include <cstdint>
#include <vector>

#include "kernels/cuda/kernels.h"
#include "tensor/tensor.h"

struct CUstream_st;

namespace arle::kernels::cuda {

// A step's sequences, on the device (int32): sequence s has rows
// [begin[s], begin[s + 1]) and state slot slot[s]; row r belongs to
// row_seq[r]. Rows of a sequence are adjacent (validate_forward_batch).
// `longest` (host) is the most rows of one sequence.
struct StateBatch {
  Tensor begin, slot, row_seq;
  std::int64_t sequences = 0, rows = 0, longest = 0;
};
StateBatch upload_state_batch(const std::vector<std::int32_t>& row_seq, const std::vector<std::int32_t>& slots,
                              int device = 0);

// out [rows, channels] float32 = silu(causal depthwise conv of x [rows,
// channels] (bf16 or float32, rows may be strided) with w [channels, K]
// float32), reading and then advancing each sequence's window in `windows`
// [slots, K - 1, channels] float32.
void causal_conv1d_silu(const Tensor& x, const Tensor& w, const StateBatch& batch, const Tensor& windows,
                        const Tensor& out, CUstream_st* stream = nullptr);

// In place on mixed [rows, 2 * key_heads * key_dim + ...] float32: each q
// head L2-normalised then scaled by 1/sqrt(key_dim), each k head
// L2-normalised (x / sqrt(sum x^2 + 1e-6)). Then per value head h:
// beta = sigmoid(b[h]), g = neg_exp_a[h] * softplus(a[h] + dt_bias[h]) into
// float32 [rows, value_heads]; b and a [rows, value_heads] are views of the
// projection (bf16 or float32), neg_exp_a and dt_bias float32.
void gdn_gates(const Tensor& mixed, std::int64_t key_heads, std::int64_t key_dim, const Tensor& b, const Tensor& a,
               const Tensor& neg_exp_a, const Tensor& dt_bias, const Tensor& beta, const Tensor& g,
               CUstream_st* stream = nullptr);

// The gated delta rule of every sequence of `batch` over its rows, value
// head j reading key head j / (value_heads / key_heads): q, k and v from
// mixed [rows, 2 * key_heads * key_dim + value_heads * value_dim] (after
// gdn_gates), g and beta [rows, value_heads], the state of each sequence's
// slot in `state` [slots, value_heads, key_dim, value_dim] (read and left
// advanced), out [rows, value_heads * value_dim] float32. key_dim <= 128.
// `scratch`, float32 [rows, delta_rule_scratch_width(value_heads, key_dim,
// value_dim)], lets sequences of two rows or more run the chunked form
// (key_dim and value_dim multiples of 4); undefined, every sequence runs
// the recurrent one.
void gated_delta_rule(const Tensor& mixed, std::int64_t key_heads, std::int64_t key_dim, std::int64_t value_heads,
                      std::int64_t value_dim, const Tensor& g, const Tensor& beta, const StateBatch& batch,
                      const Tensor& state, const Tensor& out, const Tensor& scratch, CUstream_st* stream = nullptr);

// out = RMSNorm of each value_dim slice of core (float32) with weight w
// (float32 [value_dim]), times silu(z); z (a view of the projection) and
// out are bf16 or float32 alike.
void gated_rms_norm(const Tensor& core, const Tensor& z, const Tensor& w, std::int64_t value_dim, float eps,
                    const Tensor& out, CUstream_st* stream = nullptr);

// x *= sigmoid(gate), elementwise over [rows, width] (gate may be a strided
// view; both bf16 or float32).
void sigmoid_mul(const Tensor& x, const Tensor& gate, CUstream_st* stream = nullptr);

// Qwen3.5-MoE's shared expert: x[r] += sigmoid(gate[r]) * y[r], x and y
// [rows, width] alike (bf16 or float32), gate float32 [rows, 1].
void add_sigmoid_scaled(const Tensor& x, const Tensor& y, const Tensor& gate, CUstream_st* stream = nullptr);

}  // namespace arle::kernels::cuda
