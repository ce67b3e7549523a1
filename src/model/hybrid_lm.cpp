#include "model/hybrid_lm.h"

#include <cmath>

#include "common/error.h"
#include "kernels/cpu/causal_conv1d.h"
#include "kernels/cpu/gated_delta_rule.h"
#include "kernels/ops.h"
#include "model/mlp.h"
#include "model/paged_rows.h"

namespace arle::model {
namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float silu(float x) { return x * sigmoid(x); }
// torch.nn.functional.softplus with its default threshold of 20.
float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

// x[i] *= sigmoid(gate[i]) over a [rows, cols] view pair.
void multiply_by_sigmoid(const Tensor& x, const Tensor& gate) {
  for (std::int64_t r = 0; r < x.size(0); ++r) {
    float* xr = x.data<float>() + r * x.row_stride();
    const float* gr = gate.data<float>() + r * gate.row_stride();
    for (std::int64_t i = 0; i < x.size(1); ++i) xr[i] *= sigmoid(gr[i]);
  }
}

// x / sqrt(sum(x^2) + 1e-6) over n floats (transformers' l2norm in the
// delta-rule kernels: the sum, not the mean), then times `scale`.
void l2_normalize(float* x, std::int64_t n, float scale) {
  float sum = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
  const float inv = scale / std::sqrt(sum + 1e-6f);
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

// Rows [begin, end) of each sequence in the batch (they are adjacent; see
// validate_forward_batch).
struct SequenceRows {
  std::int32_t sequence;
  std::int64_t begin, end;
};

std::vector<SequenceRows> sequence_rows(const ForwardBatch& batch) {
  std::vector<SequenceRows> out;
  for (std::int64_t r = 0; r < batch.rows(); ++r) {
    if (out.empty() || out.back().sequence != batch.row_sequence[r]) out.push_back({batch.row_sequence[r], r, r});
    out.back().end = r + 1;
  }
  return out;
}

}  // namespace

HybridLm::HybridLm(ModelConfig config, HybridWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)), rope_(config_) {}

Tensor HybridLm::gated_deltanet(std::int64_t layer, const Tensor& x, const ForwardBatch& batch,
                                PagedKvCache& cache) const {
  const GatedDeltaNetWeights& w = weights_.layers[static_cast<std::size_t>(layer)].linear;
  const LinearAttentionConfig& l = config_.linear;
  const std::int64_t rows = x.size(0), hk = l.num_key_heads, hv = l.num_value_heads;
  const std::int64_t dk = l.key_head_dim, dv = l.value_head_dim, kernel = l.conv_kernel_dim;
  const std::int64_t key_dim = hk * dk, value_dim = hv * dv, conv_dim = 2 * key_dim + value_dim;
  const Tensor proj = ops::linear(x, w.in_proj);  // [rows, conv_dim | value_dim (z) | hv (b) | hv (a)]
  const std::int64_t ld = proj.row_stride();
  const float* p = proj.data<float>();

  // Per row: the gates, and q, k, v after the conv (q and k normalised).
  Tensor mixed = Tensor::empty({rows, conv_dim}, DType::kF32);
  Tensor beta = Tensor::empty({rows, hv}, DType::kF32), g = Tensor::empty({rows, hv}, DType::kF32);
  const std::vector<SequenceRows> sequences = sequence_rows(batch);
  const Tensor& windows = cache.conv_window(layer);
  const std::int64_t window_floats = windows.numel() / windows.size(0);
  for (const SequenceRows& s : sequences) {
    float* window = windows.data<float>() + batch.state_slots[s.sequence] * window_floats;
    kernels::cpu::causal_conv1d_silu(p + s.begin * ld, ld, s.end - s.begin, conv_dim, w.conv.data<float>(), kernel,
                                     window, mixed.data<float>() + s.begin * conv_dim, conv_dim);
  }
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(dk));
  for (std::int64_t r = 0; r < rows; ++r) {
    float* m = mixed.data<float>() + r * conv_dim;
    for (std::int64_t h = 0; h < hk; ++h) {
      l2_normalize(m + h * dk, dk, q_scale);
      l2_normalize(m + key_dim + h * dk, dk, 1.0f);
    }
    const float* b = p + r * ld + conv_dim + value_dim;
    const float* a = b + hv;
    for (std::int64_t h = 0; h < hv; ++h) {
      beta.data<float>()[r * hv + h] = sigmoid(b[h]);
      g.data<float>()[r * hv + h] = w.neg_exp_a.data<float>()[h] * softplus(a[h] + w.dt_bias.data<float>()[h]);
    }
  }

  // The delta rule per sequence and value head; value head j reads key head
  // j / (hv / hk) (transformers' repeat_interleave).
  Tensor core = Tensor::empty({rows, value_dim}, DType::kF32);
  const Tensor& states = cache.recurrent_state(layer);
  const std::int64_t state_floats = dk * dv;
  for (const SequenceRows& s : sequences) {
    const std::int64_t tokens = s.end - s.begin;
    float* slot_state = states.data<float>() + batch.state_slots[s.sequence] * hv * state_floats;
    const float* m = mixed.data<float>() + s.begin * conv_dim;
    for (std::int64_t j = 0; j < hv; ++j) {
      const std::int64_t kh = j / (hv / hk);
      const kernels::cpu::DeltaRuleInputs in{m + kh * dk,
                                             m + key_dim + kh * dk,
                                             m + 2 * key_dim + j * dv,
                                             g.data<float>() + s.begin * hv + j,
                                             beta.data<float>() + s.begin * hv + j,
                                             conv_dim,
                                             conv_dim,
                                             conv_dim,
                                             hv,
                                             tokens,
                                             dk,
                                             dv};
      float* out = core.data<float>() + s.begin * value_dim + j * dv;
      if (tokens == 1) {
        kernels::cpu::gated_delta_rule_recurrent(in, slot_state + j * state_floats, out, value_dim);
      } else {
        kernels::cpu::gated_delta_rule_chunked(in, slot_state + j * state_floats, out, value_dim);
      }
    }
  }

  // RMSNorm over each value head (plain weight), times SiLU(z).
  const float eps = static_cast<float>(config_.rms_norm_eps);
  const float* norm = w.norm.data<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* z = p + r * ld + conv_dim;
    for (std::int64_t j = 0; j < hv; ++j) {
      float* o = core.data<float>() + r * value_dim + j * dv;
      float sum = 0.0f;
      for (std::int64_t i = 0; i < dv; ++i) sum += o[i] * o[i];
      const float inv = 1.0f / std::sqrt(sum / static_cast<float>(dv) + eps);
      for (std::int64_t i = 0; i < dv; ++i) o[i] = o[i] * inv * norm[i] * silu(z[j * dv + i]);
    }
  }
  return ops::linear(core, w.out_proj);
}

Tensor HybridLm::ffn(const HybridLayerWeights& layer, const Tensor& x) const {
  if (layer.experts.empty()) return swiglu_mlp(layer.mlp, x);
  Tensor out = routed_experts(x, layer.router, layer.experts, config_.moe.experts_per_token, /*normalize=*/true);
  const Tensor gate = ops::linear(x, layer.shared_expert_gate);  // [rows, 1]
  std::vector<float> scale(static_cast<std::size_t>(x.size(0)));
  for (std::int64_t r = 0; r < x.size(0); ++r) scale[r] = sigmoid(gate.data<float>()[r * gate.row_stride()]);
  ops::add_scaled_rows(out, swiglu_mlp(layer.shared_expert, x), scale);
  return out;
}

Tensor HybridLm::forward(const ForwardBatch& batch, PagedKvCache& cache) {
  validate_forward_batch(batch, config_.vocab_size, cache);
  const ModelConfig& c = config_;
  const std::int64_t rows = batch.rows();
  if (rows == 0) return Tensor::empty({0, c.vocab_size}, DType::kF32);
  if (!cache.has_state()) throw_error(ErrorCode::kInternal, "{} needs a cache with state slots", c.architecture_name);

  const ops::PagedRows paged = paged_rows(batch);
  Tensor cos, sin;
  rope_.fill(batch.positions, cos, sin);
  const float eps = static_cast<float>(c.rms_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const std::int64_t q_size = c.q_size(), kv_size = c.kv_size();

  Tensor x = ops::embedding(weights_.embed_tokens, batch.token_ids);
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const HybridLayerWeights& layer = weights_.layers[static_cast<std::size_t>(i)];
    const Tensor h = ops::rms_norm(x, layer.input_norm, eps, /*offset=*/true);
    if (layer.type == LayerType::kLinearAttention) {
      ops::add(x, gated_deltanet(i, h, batch, cache));
    } else {
      const GatedAttentionWeights& a = layer.attention;
      Tensor qkvg = ops::linear(h, a.qkvg, a.qkvg_bias);
      Tensor q = qkvg.narrow_cols(0, q_size);
      Tensor k = qkvg.narrow_cols(q_size, q_size + kv_size);
      Tensor v = qkvg.narrow_cols(q_size + kv_size, q_size + 2 * kv_size);
      ops::rms_norm_heads(q, a.q_norm, eps, /*offset=*/true);
      ops::rms_norm_heads(k, a.k_norm, eps, /*offset=*/true);
      ops::rope(q, c.head_dim, cos, sin, ops::RopeLayout::kNeox);
      ops::rope(k, c.head_dim, cos, sin, ops::RopeLayout::kNeox);
      ops::paged_kv_write(k, v, paged, cache.k(i), cache.v(i));
      Tensor attention = ops::paged_attention(q, paged, cache.k(i), cache.v(i), c.num_attention_heads, scale);
      if (c.attn_output_gate) {
        multiply_by_sigmoid(attention, qkvg.narrow_cols(q_size + 2 * kv_size, 2 * q_size + 2 * kv_size));
      }
      ops::add(x, ops::linear(attention, a.o_proj));
    }
    ops::add(x, ffn(layer, ops::rms_norm(x, layer.post_attention_norm, eps, /*offset=*/true)));
  }
  Tensor last = ops::gather_rows(x, batch.logit_rows);
  return ops::linear(ops::rms_norm(last, weights_.final_norm, eps, /*offset=*/true), weights_.lm_head);
}

}  // namespace arle::model
