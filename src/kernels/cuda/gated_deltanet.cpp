#include "kernels/cuda/gated_deltanet.h"

#include <algorithm>
#include <cstdint>

#include "common/error.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

void check(bool ok, const char* what, const char* why) {
  if (!ok) throw_error(ErrorCode::kInvalidArgument, "{}: {}", what, why);
}

// A 2-D device tensor with dense rows; true for bf16, false for float32.
bool activation(const Tensor& t, const char* what) {
  check(t.defined() && !t.device().is_cpu() && t.dim() == 2 && t.strides()[1] == 1, what,
        "expected a 2-D device tensor with dense rows");
  check(t.dtype() == DType::kBF16 || t.dtype() == DType::kF32, what, "expected bf16 or float32");
  return t.dtype() == DType::kBF16;
}

void float32(const Tensor& t, const char* what) {
  check(t.defined() && !t.device().is_cpu() && t.dtype() == DType::kF32, what, "expected a float32 device tensor");
}

StateRows state_rows(const StateBatch& b) {
  return {b.begin.data<std::int32_t>(),
          b.slot.data<std::int32_t>(),
          b.row_seq.data<std::int32_t>(),
          b.sequences,
          b.rows,
          b.longest};
}

}  // namespace

StateBatch upload_state_batch(const std::vector<std::int32_t>& row_seq, const std::vector<std::int32_t>& slots,
                              int device) {
  std::vector<std::int32_t> begin(slots.size() + 1, 0);
  for (std::size_t r = 0; r < row_seq.size(); ++r) {
    const std::int32_t s = row_seq[r];
    const bool in_order = r == 0 ? s == 0 : s == row_seq[r - 1] || s == row_seq[r - 1] + 1;
    if (s < 0 || static_cast<std::size_t>(s) >= slots.size() || !in_order) {
      throw_error(ErrorCode::kInvalidArgument, "state batch: row {} of sequence {} is out of order", r, s);
    }
    begin[static_cast<std::size_t>(s) + 1] = static_cast<std::int32_t>(r + 1);
  }
  StateBatch b;
  for (std::size_t s = 1; s < begin.size(); ++s) {
    begin[s] = std::max(begin[s], begin[s - 1]);
    b.longest = std::max<std::int64_t>(b.longest, begin[s] - begin[s - 1]);
  }
  b.begin = upload_i32(begin, device);
  b.slot = upload_i32(slots, device);
  b.row_seq = upload_i32(row_seq, device);
  b.sequences = static_cast<std::int64_t>(slots.size());
  b.rows = static_cast<std::int64_t>(row_seq.size());
  return b;
}

void causal_conv1d_silu(const Tensor& x, const Tensor& w, const StateBatch& batch, const Tensor& windows,
                        const Tensor& out, CUstream_st* stream) {
  const char* what = "causal_conv1d_silu";
  const bool bf16 = activation(x, what);
  float32(w, what);
  float32(windows, what);
  float32(out, what);
  activation(out, what);
  const std::int64_t channels = x.size(1), kernel = w.dim() == 2 ? w.size(1) : 0;
  check(w.dim() == 2 && w.size(0) == channels && kernel >= 1 && w.is_contiguous(), what, "w must be [channels, K]");
  check(windows.dim() == 3 && windows.size(1) == kernel - 1 && windows.size(2) == channels && windows.is_contiguous(),
        what, "windows must be [slots, K - 1, channels]");
  check(out.size(0) == x.size(0) && out.size(1) == channels && batch.rows == x.size(0), what, "row counts differ");
  launch_causal_conv1d_silu(x.raw_data(), x.row_stride(), state_rows(batch), channels, w.data<float>(), kernel,
                            windows.data<float>(), out.data<float>(), out.row_stride(), bf16, stream);
}

void gdn_gates(const Tensor& mixed, std::int64_t key_heads, std::int64_t key_dim, const Tensor& b, const Tensor& a,
               const Tensor& neg_exp_a, const Tensor& dt_bias, const Tensor& beta, const Tensor& g,
               CUstream_st* stream) {
  const char* what = "gdn_gates";
  float32(mixed, what);
  activation(mixed, what);
  const bool bf16 = activation(b, what);
  check(activation(a, what) == bf16 && a.row_stride() == b.row_stride() && a.shape() == b.shape(), what,
        "a and b must be alike views of one projection");
  const std::int64_t rows = mixed.size(0), value_heads = b.size(1);
  check(b.size(0) == rows && mixed.size(1) >= 2 * key_heads * key_dim && key_heads > 0 && key_dim > 0, what,
        "shapes do not fit");
  for (const Tensor* t : {&neg_exp_a, &dt_bias}) {
    float32(*t, what);
    check(t->numel() == value_heads && t->is_contiguous(), what, "per-head parameters must have value_heads floats");
  }
  for (const Tensor* t : {&beta, &g}) {
    float32(*t, what);
    check(t->dim() == 2 && t->size(0) == rows && t->size(1) == value_heads && t->is_contiguous(), what,
          "beta and g must be [rows, value_heads]");
  }
  launch_gdn_gates(mixed.data<float>(), mixed.row_stride(), rows, key_heads, key_dim, b.raw_data(), a.raw_data(),
                   b.row_stride(), value_heads, neg_exp_a.data<float>(), dt_bias.data<float>(), beta.data<float>(),
                   g.data<float>(), bf16, stream);
}

void gated_delta_rule(const Tensor& mixed, std::int64_t key_heads, std::int64_t key_dim, std::int64_t value_heads,
                      std::int64_t value_dim, const Tensor& g, const Tensor& beta, const StateBatch& batch,
                      const Tensor& state, const Tensor& out, const Tensor& scratch, CUstream_st* stream) {
  const char* what = "gated_delta_rule";
  for (const Tensor* t : {&mixed, &g, &beta, &state, &out}) float32(*t, what);
  activation(mixed, what);
  activation(out, what);
  check(key_heads > 0 && value_heads % key_heads == 0 && key_dim > 0 && value_dim > 0, what,
        "value heads must be a multiple of key heads");
  check(key_dim <= kDeltaRuleMaxKeyDim, what, "key_dim above 128 is not supported");
  const std::int64_t rows = mixed.size(0);
  check(mixed.size(1) >= 2 * key_heads * key_dim + value_heads * value_dim && batch.rows == rows, what,
        "mixed does not hold q, k and v of every row");
  check(g.numel() == rows * value_heads && beta.numel() == rows * value_heads && g.is_contiguous() &&
            beta.is_contiguous(),
        what, "g and beta must be [rows, value_heads]");
  check(state.dim() == 4 && state.size(1) == value_heads && state.size(2) == key_dim && state.size(3) == value_dim &&
            state.is_contiguous(),
        what, "state must be [slots, value_heads, key_dim, value_dim]");
  check(out.size(0) == rows && out.size(1) == value_heads * value_dim, what,
        "out must be [rows, value_heads * value_dim]");
  const bool chunked = scratch.defined() && batch.longest > 1;
  if (chunked) {
    float32(scratch, what);
    check(scratch.dim() == 2 && scratch.size(0) >= rows && scratch.is_contiguous() &&
              scratch.size(1) == delta_rule_scratch_width(value_heads, key_dim, value_dim),
          what, "scratch must be [rows, delta_rule_scratch_width]");
    check(reinterpret_cast<std::uintptr_t>(scratch.raw_data()) % 16 == 0, what, "scratch must be 16-byte aligned");
    check(key_dim % 4 == 0 && value_dim % 4 == 0, what, "the chunked form needs key and value dims multiples of 4");
    launch_gated_delta_rule_chunked(mixed.data<float>(), mixed.row_stride(), key_heads, key_dim, value_heads, value_dim,
                                    g.data<float>(), beta.data<float>(), state_rows(batch), state.data<float>(),
                                    out.data<float>(), out.row_stride(), scratch.data<float>(), stream);
  }
  launch_gated_delta_rule(mixed.data<float>(), mixed.row_stride(), key_heads, key_dim, value_heads, value_dim,
                          g.data<float>(), beta.data<float>(), state_rows(batch), state.data<float>(),
                          out.data<float>(), out.row_stride(), chunked, stream);
}

void gated_rms_norm(const Tensor& core, const Tensor& z, const Tensor& w, std::int64_t value_dim, float eps,
                    const Tensor& out, CUstream_st* stream) {
  const char* what = "gated_rms_norm";
  float32(core, what);
  activation(core, what);
  const bool bf16 = activation(z, what);
  check(activation(out, what) == bf16, what, "z and out must share a dtype");
  float32(w, what);
  check(value_dim > 0 && core.size(1) % value_dim == 0 && w.numel() == value_dim && w.is_contiguous(), what,
        "w must have value_dim floats dividing the width");
  check(z.shape() == core.shape() && out.shape() == core.shape(), what, "shapes differ");
  launch_gated_rms_norm(core.data<float>(), core.row_stride(), z.raw_data(), z.row_stride(), w.data<float>(),
                        core.size(0), core.size(1) / value_dim, value_dim, eps, out.raw_data(), out.row_stride(), bf16,
                        stream);
}

void sigmoid_mul(const Tensor& x, const Tensor& gate, CUstream_st* stream) {
  const char* what = "sigmoid_mul";
  const bool bf16 = activation(x, what);
  check(activation(gate, what) == bf16 && gate.shape() == x.shape(), what, "gate must match x");
  launch_sigmoid_mul(x.raw_data(), x.row_stride(), gate.raw_data(), gate.row_stride(), x.size(0), x.size(1), bf16,
                     stream);
}

void add_sigmoid_scaled(const Tensor& x, const Tensor& y, const Tensor& gate, CUstream_st* stream) {
  const char* what = "add_sigmoid_scaled";
  const bool bf16 = activation(x, what);
  check(activation(y, what) == bf16 && y.shape() == x.shape(), what, "y must match x");
  float32(gate, what);
  check(gate.dim() == 2 && gate.size(0) == x.size(0) && gate.size(1) == 1, what, "gate must be [rows, 1]");
  launch_add_sigmoid_scaled(x.raw_data(), x.row_stride(), y.raw_data(), y.row_stride(), gate.data<float>(),
                            gate.row_stride(), x.size(0), x.size(1), bf16, stream);
}

}  // namespace arle::kernels::cuda
