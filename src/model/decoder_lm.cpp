#include "model/decoder_lm.h"

#include <cmath>

#include "common/error.h"
#include "kernels/ops.h"

namespace arle::model {
namespace {

Tensor mlp(const MlpWeights& w, const Tensor& x) {
  return ops::linear(ops::silu_and_mul(ops::linear(x, w.gate_up, w.gate_up_bias)), w.down, w.down_bias);
}

}  // namespace

DecoderLm::DecoderLm(ModelConfig config, DecoderWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)), rope_(config_) {}

// Experts run one after another over the rows routed to them, and each row
// adds its experts' outputs in ascending expert id: the same order whatever
// else is in the batch.
Tensor DecoderLm::moe_mlp(const DecoderLayerWeights& layer, const Tensor& x) const {
  const std::int64_t k = config_.moe.experts_per_token;
  ops::MoeRouting routing = ops::moe_route(ops::linear(x, layer.router), k, config_.moe.norm_topk_prob);
  Tensor out = Tensor::zeros(x.shape(), DType::kF32);
  const std::int64_t rows = x.size(0);
  std::vector<std::vector<std::int32_t>> expert_rows(layer.experts.size());
  std::vector<std::vector<float>> expert_weights(layer.experts.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int32_t e = routing.expert_ids[r * k + j];
      expert_rows[e].push_back(static_cast<std::int32_t>(r));
      expert_weights[e].push_back(routing.weights[r * k + j]);
    }
  }
  for (std::size_t e = 0; e < layer.experts.size(); ++e) {
    if (expert_rows[e].empty()) continue;
    Tensor y = mlp(layer.experts[e], ops::gather_rows(x, expert_rows[e]));
    for (std::size_t i = 0; i < expert_rows[e].size(); ++i) {
      ops::add_scaled_rows(out.narrow_rows(expert_rows[e][i], expert_rows[e][i] + 1),
                           y.narrow_rows(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i) + 1),
                           {expert_weights[e][i]});
    }
  }
  return out;
}

Tensor DecoderLm::forward(const ForwardBatch& batch, PagedKvCache& cache) {
  validate_forward_batch(batch, config_.vocab_size, cache);
  const ModelConfig& c = config_;
  const std::int64_t rows = batch.rows();
  if (rows == 0) return Tensor::empty({0, c.vocab_size}, DType::kF32);

  ops::PagedRows paged;
  for (std::int64_t r = 0; r < rows; ++r) {
    paged.page_tables.push_back(batch.page_tables[batch.row_sequence[r]]->data());
    paged.positions.push_back(batch.positions[r]);
    paged.context_lens.push_back(batch.positions[r] + 1);
  }
  Tensor cos, sin;
  rope_.fill(batch.positions, cos, sin);
  const float eps = static_cast<float>(c.rms_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const std::int64_t q_size = c.q_size(), kv_size = c.kv_size();

  Tensor x = ops::embedding(weights_.embed_tokens, batch.token_ids);
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const DecoderLayerWeights& layer = weights_.layers[static_cast<std::size_t>(i)];
    Tensor qkv = ops::linear(ops::rms_norm(x, layer.input_norm, eps), layer.qkv, layer.qkv_bias);
    Tensor q = qkv.narrow_cols(0, q_size);
    Tensor k = qkv.narrow_cols(q_size, q_size + kv_size);
    Tensor v = qkv.narrow_cols(q_size + kv_size, q_size + 2 * kv_size);
    if (c.qk_norm) {
      ops::rms_norm_heads(q, layer.q_norm, eps);
      ops::rms_norm_heads(k, layer.k_norm, eps);
    }
    ops::rope(q, c.head_dim, cos, sin, ops::RopeLayout::kNeox);
    ops::rope(k, c.head_dim, cos, sin, ops::RopeLayout::kNeox);
    ops::paged_kv_write(k, v, paged, cache.k(i), cache.v(i));
    Tensor attention = ops::paged_attention(q, paged, cache.k(i), cache.v(i), c.num_attention_heads, scale);
    ops::add(x, ops::linear(attention, layer.o_proj, layer.o_bias));

    Tensor h = ops::rms_norm(x, layer.post_attention_norm, eps);
    ops::add(x, layer.experts.empty() ? mlp(layer.mlp, h) : moe_mlp(layer, h));
  }
  const bool all_rows = static_cast<std::int64_t>(batch.logit_rows.size()) == rows && [&] {
    for (std::int64_t r = 0; r < rows; ++r)
      if (batch.logit_rows[r] != r) return false;
    return true;
  }();
  Tensor last = all_rows ? x : ops::gather_rows(x, batch.logit_rows);
  return ops::linear(ops::rms_norm(last, weights_.final_norm, eps), weights_.lm_head);
}

}  // namespace arle::model
