#include "model/decoder_lm.h"

#include <cmath>

#include "common/error.h"
#include "kernels/ops.h"
#include "model/mlp.h"
#include "model/paged_rows.h"

namespace arle::model {

DecoderLm::DecoderLm(ModelConfig config, DecoderWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)), rope_(config_) {}

Tensor DecoderLm::forward(const ForwardBatch& batch, PagedKvCache& cache) {
  validate_forward_batch(batch, config_.vocab_size, cache);
  const ModelConfig& c = config_;
  const std::int64_t rows = batch.rows();
  if (rows == 0) return Tensor::empty({0, c.vocab_size}, DType::kF32);

  const ops::PagedRows paged = paged_rows(batch);
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
    ops::add(x, layer.experts.empty()
                    ? swiglu_mlp(layer.mlp, h)
                    : routed_experts(h, layer.router, layer.experts, c.moe.experts_per_token, c.moe.norm_topk_prob));
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
