#include "kernels/ops.h"

#include <cstring>

#include "common/error.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/moe_routing.h"
#include "kernels/cpu/paged_attention.h"
#include "kernels/cpu/rms_norm.h"

namespace arle::ops {
namespace {

// Every op runs on CPU float32 today; this is the one place that says so.
void check_cpu_f32(const Tensor& t, const char* op, const char* what) {
  if (!t.defined()) throw_error(ErrorCode::kInternal, "{}: {} is undefined", op, what);
  if (!t.device().is_cpu()) {
    throw_error(ErrorCode::kUnsupported, "{}: no kernel for {} on {} yet", op, what, t.device().to_string());
  }
  if (t.dtype() != DType::kF32) throw_error(ErrorCode::kInternal, "{}: {} is {}, not f32", op, what, dtype_name(t.dtype()));
}

// A 2-D float32 matrix whose rows are contiguous (the row stride may be larger).
void check_matrix(const Tensor& t, const char* op, const char* what) {
  check_cpu_f32(t, op, what);
  if (t.dim() != 2 || t.strides()[1] != 1) {
    throw_error(ErrorCode::kInternal, "{}: {} must be a row-major matrix, got {}", op, what, shape_to_string(t.shape()));
  }
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape()) {
    throw_error(ErrorCode::kInternal, "{}: shapes {} and {} differ", op, shape_to_string(a.shape()),
                shape_to_string(b.shape()));
  }
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_matrix(x, "linear", "input");
  check_cpu_f32(w, "linear", "weight");
  if (w.dim() != 2 || !w.is_contiguous() || w.size(1) != x.size(1)) {
    throw_error(ErrorCode::kInternal, "linear: weight {} does not fit input {}", shape_to_string(w.shape()),
                shape_to_string(x.shape()));
  }
  if (bias.defined()) {
    check_cpu_f32(bias, "linear", "bias");
    if (bias.numel() != w.size(0)) throw_error(ErrorCode::kInternal, "linear: bias does not fit weight");
  }
  Tensor out = Tensor::empty({x.size(0), w.size(0)}, DType::kF32);
  kernels::cpu::linear(x.data<float>(), x.row_stride(), x.size(0), w.data<float>(), w.size(0), w.size(1),
                       bias.defined() ? bias.data<float>() : nullptr, out.data<float>(), w.size(0));
  return out;
}

Tensor embedding(const Tensor& table, const std::vector<std::int32_t>& ids) {
  check_matrix(table, "embedding", "table");
  const std::int64_t vocab = table.size(0), width = table.size(1);
  Tensor out = Tensor::empty({static_cast<std::int64_t>(ids.size()), width}, DType::kF32);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary [0, {})", ids[i], vocab);
    }
    std::memcpy(out.data<float>() + static_cast<std::int64_t>(i) * width,
                table.data<float>() + ids[i] * table.row_stride(), static_cast<std::size_t>(width) * sizeof(float));
  }
  return out;
}

Tensor gather_rows(const Tensor& x, const std::vector<std::int32_t>& rows) {
  check_matrix(x, "gather_rows", "input");
  const std::int64_t width = x.size(1);
  Tensor out = Tensor::empty({static_cast<std::int64_t>(rows.size()), width}, DType::kF32);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= x.size(0)) throw_error(ErrorCode::kInternal, "gather_rows: row {} of {}", rows[i], x.size(0));
    std::memcpy(out.data<float>() + static_cast<std::int64_t>(i) * width, x.data<float>() + rows[i] * x.row_stride(),
                static_cast<std::size_t>(width) * sizeof(float));
  }
  return out;
}

Tensor rms_norm(const Tensor& x, const Tensor& w, float eps, bool offset) {
  check_matrix(x, "rms_norm", "input");
  check_cpu_f32(w, "rms_norm", "weight");
  if (w.numel() != x.size(1)) throw_error(ErrorCode::kInternal, "rms_norm: weight does not fit input");
  Tensor out = Tensor::empty(x.shape(), DType::kF32);
  kernels::cpu::rms_norm(x.data<float>(), x.row_stride(), x.size(0), x.size(1), w.data<float>(), eps, offset,
                         out.data<float>(), x.size(1));
  return out;
}

void rms_norm_heads(const Tensor& x, const Tensor& w, float eps, bool offset) {
  check_matrix(x, "rms_norm_heads", "input");
  check_cpu_f32(w, "rms_norm_heads", "weight");
  const std::int64_t head_dim = w.numel();
  if (head_dim == 0 || x.size(1) % head_dim != 0) throw_error(ErrorCode::kInternal, "rms_norm_heads: weight does not fit");
  const std::int64_t heads = x.size(1) / head_dim;
  for (std::int64_t r = 0; r < x.size(0); ++r) {
    float* row = x.data<float>() + r * x.row_stride();
    kernels::cpu::rms_norm(row, head_dim, heads, head_dim, w.data<float>(), eps, offset, row, head_dim);
  }
}

void rope(const Tensor& x, std::int64_t head_dim, const Tensor& cos, const Tensor& sin, RopeLayout layout) {
  check_matrix(x, "rope", "input");
  check_matrix(cos, "rope", "cos");
  check_same_shape(cos, sin, "rope");
  if (head_dim <= 0 || x.size(1) % head_dim != 0 || cos.size(0) != x.size(0) || 2 * cos.size(1) > head_dim) {
    throw_error(ErrorCode::kInternal, "rope: tables {} do not fit input {}", shape_to_string(cos.shape()),
                shape_to_string(x.shape()));
  }
  kernels::cpu::rope_apply(x.data<float>(), x.row_stride(), x.size(0), x.size(1) / head_dim, head_dim,
                           2 * cos.size(1), cos.data<float>(), sin.data<float>(), layout);
}

Tensor silu_and_mul(const Tensor& gate_up) {
  check_matrix(gate_up, "silu_and_mul", "input");
  if (!gate_up.is_contiguous() || gate_up.size(1) % 2 != 0) {
    throw_error(ErrorCode::kInternal, "silu_and_mul: input must be contiguous [rows, 2d]");
  }
  const std::int64_t d = gate_up.size(1) / 2;
  Tensor out = Tensor::empty({gate_up.size(0), d}, DType::kF32);
  kernels::cpu::silu_and_mul(gate_up.data<float>(), gate_up.size(0), d, out.data<float>());
  return out;
}

void add(const Tensor& x, const Tensor& y) {
  check_matrix(x, "add", "x");
  check_matrix(y, "add", "y");
  check_same_shape(x, y, "add");
  for (std::int64_t r = 0; r < x.size(0); ++r) {
    float* xr = x.data<float>() + r * x.row_stride();
    const float* yr = y.data<float>() + r * y.row_stride();
    for (std::int64_t i = 0; i < x.size(1); ++i) xr[i] += yr[i];
  }
}

void add_scaled_rows(const Tensor& x, const Tensor& y, const std::vector<float>& scale) {
  check_matrix(x, "add_scaled_rows", "x");
  check_matrix(y, "add_scaled_rows", "y");
  check_same_shape(x, y, "add_scaled_rows");
  if (static_cast<std::int64_t>(scale.size()) != x.size(0)) throw_error(ErrorCode::kInternal, "add_scaled_rows: scale size");
  for (std::int64_t r = 0; r < x.size(0); ++r) {
    float* xr = x.data<float>() + r * x.row_stride();
    const float* yr = y.data<float>() + r * y.row_stride();
    for (std::int64_t i = 0; i < x.size(1); ++i) xr[i] += scale[r] * yr[i];
  }
}

namespace {

void check_cache(const Tensor& cache, const char* op) {
  check_cpu_f32(cache, op, "cache");
  if (cache.dim() != 4 || !cache.is_contiguous()) throw_error(ErrorCode::kInternal, "{}: cache must be 4-D contiguous", op);
}

void check_rows(const PagedRows& rows, std::int64_t n, const char* op) {
  if (static_cast<std::int64_t>(rows.page_tables.size()) != n || static_cast<std::int64_t>(rows.positions.size()) != n ||
      static_cast<std::int64_t>(rows.context_lens.size()) != n) {
    throw_error(ErrorCode::kInternal, "{}: row metadata does not match {} rows", op, n);
  }
}

}  // namespace

void paged_kv_write(const Tensor& k, const Tensor& v, const PagedRows& rows, const Tensor& k_cache,
                    const Tensor& v_cache) {
  check_matrix(k, "paged_kv_write", "k");
  check_matrix(v, "paged_kv_write", "v");
  check_same_shape(k, v, "paged_kv_write");
  check_cache(k_cache, "paged_kv_write");
  check_cache(v_cache, "paged_kv_write");
  check_rows(rows, k.size(0), "paged_kv_write");
  const std::int64_t kv_width = k_cache.size(2) * k_cache.size(3);
  if (k.size(1) != kv_width || k.row_stride() != v.row_stride()) {
    throw_error(ErrorCode::kInternal, "paged_kv_write: rows of {} do not fit the cache", k.size(1));
  }
  kernels::cpu::paged_kv_write(k.data<float>(), v.data<float>(), k.row_stride(), k.size(0), rows.page_tables.data(),
                               rows.positions.data(), k_cache.size(1), kv_width, k_cache.data<float>(),
                               v_cache.data<float>());
}

Tensor paged_attention(const Tensor& q, const PagedRows& rows, const Tensor& k_cache, const Tensor& v_cache,
                       std::int64_t q_heads, float scale) {
  check_matrix(q, "paged_attention", "q");
  check_cache(k_cache, "paged_attention");
  check_cache(v_cache, "paged_attention");
  check_rows(rows, q.size(0), "paged_attention");
  const std::int64_t kv_heads = k_cache.size(2), head_dim = k_cache.size(3);
  if (q_heads <= 0 || q_heads % kv_heads != 0 || q.size(1) != q_heads * head_dim) {
    throw_error(ErrorCode::kInternal, "paged_attention: {} query heads do not fit {} kv heads of {}", q_heads,
                kv_heads, head_dim);
  }
  Tensor out = Tensor::empty({q.size(0), q.size(1)}, DType::kF32);
  kernels::cpu::PagedAttentionArgs args{q.data<float>(),
                                        q.row_stride(),
                                        k_cache.data<float>(),
                                        v_cache.data<float>(),
                                        k_cache.size(1),
                                        q_heads,
                                        kv_heads,
                                        head_dim,
                                        rows.page_tables.data(),
                                        rows.context_lens.data(),
                                        q.size(0),
                                        scale,
                                        out.data<float>()};
  kernels::cpu::paged_attention(args);
  return out;
}

MoeRouting moe_route(const Tensor& router_logits, std::int64_t k, bool normalize) {
  check_matrix(router_logits, "moe_route", "logits");
  if (!router_logits.is_contiguous() || k <= 0 || k > router_logits.size(1)) {
    throw_error(ErrorCode::kInternal, "moe_route: top-{} of {} experts", k, router_logits.size(1));
  }
  MoeRouting r;
  r.expert_ids.resize(static_cast<std::size_t>(router_logits.size(0) * k));
  r.weights.resize(r.expert_ids.size());
  kernels::cpu::moe_route(router_logits.data<float>(), router_logits.size(0), router_logits.size(1), k, normalize,
                          r.expert_ids.data(), r.weights.data());
  return r;
}

}  // namespace arle::ops
