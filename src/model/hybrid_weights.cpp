#include "model/hybrid_weights.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace arle::model {
namespace {

// q_proj's rows (or bias entries) are, per head, head_dim of query then
// head_dim of gate; returns {queries, gates}, each [heads * head_dim, ...].
std::pair<Tensor, Tensor> split_query_gate(const Tensor& q_proj, std::int64_t heads, std::int64_t head_dim) {
  Shape half = q_proj.shape();
  half[0] = heads * head_dim;
  Tensor queries = Tensor::empty(half, DType::kF32), gates = Tensor::empty(half, DType::kF32);
  const std::size_t block =
      static_cast<std::size_t>(head_dim) * (q_proj.nbytes() / static_cast<std::size_t>(q_proj.size(0)));
  const auto* src = static_cast<const std::uint8_t*>(q_proj.raw_data());
  for (std::int64_t h = 0; h < heads; ++h) {
    std::memcpy(static_cast<std::uint8_t*>(queries.raw_data()) + h * block, src + (2 * h) * block, block);
    std::memcpy(static_cast<std::uint8_t*>(gates.raw_data()) + h * block, src + (2 * h + 1) * block, block);
  }
  return {std::move(queries), std::move(gates)};
}

GatedAttentionWeights read_attention(WeightReader& r, const ModelConfig& c, const std::string& a) {
  GatedAttentionWeights w;
  // Without attn_output_gate, q_proj holds queries only and there is no gate.
  auto fuse = [&](const std::string& suffix) {
    Tensor q = r.get(a + "q_proj." + suffix), k = r.get(a + "k_proj." + suffix), v = r.get(a + "v_proj." + suffix);
    if (!c.attn_output_gate) return r.concat_rows({q, k, v});
    auto [queries, gates] = split_query_gate(q, c.num_attention_heads, c.head_dim);
    return r.concat_rows({queries, k, v, gates});
  };
  w.qkvg = fuse("weight");
  if (r.has(a + "q_proj.bias")) w.qkvg_bias = fuse("bias");
  w.o_proj = r.get(a + "o_proj.weight");
  w.q_norm = r.get(a + "q_norm.weight");
  w.k_norm = r.get(a + "k_norm.weight");
  return w;
}

GatedDeltaNetWeights read_linear_attention(WeightReader& r, const ModelConfig& c, const std::string& a) {
  GatedDeltaNetWeights w;
  w.in_proj = r.concat_rows({r.get(a + "in_proj_qkv.weight"), r.get(a + "in_proj_z.weight"),
                             r.get(a + "in_proj_b.weight"), r.get(a + "in_proj_a.weight")});
  const Tensor conv = r.get(a + "conv1d.weight");  // [conv_dim, 1, K]
  w.conv = conv.reshape({conv.size(0), c.linear.conv_kernel_dim});
  w.neg_exp_a = r.get(a + "A_log");
  for (std::int64_t i = 0; i < w.neg_exp_a.numel(); ++i) {
    float& v = w.neg_exp_a.data<float>()[i];
    v = -std::exp(v);
  }
  w.dt_bias = r.get(a + "dt_bias");
  w.norm = r.get(a + "norm.weight");
  w.out_proj = r.get(a + "out_proj.weight");
  return w;
}

}  // namespace

HybridWeights load_hybrid_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  const WeightReport report = require_complete_weights(config, checkpoint);
  HybridWeights w;
  WeightReader r(checkpoint, report, w.bytes);
  w.embed_tokens = r.get("model.embed_tokens.weight");
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    HybridLayerWeights l;
    l.type = config.layer_types[static_cast<std::size_t>(i)];
    l.input_norm = r.get(p + "input_layernorm.weight");
    l.post_attention_norm = r.get(p + "post_attention_layernorm.weight");
    if (l.type == LayerType::kLinearAttention) {
      l.linear = read_linear_attention(r, config, p + "linear_attn.");
    } else {
      l.attention = read_attention(r, config, p + "self_attn.");
    }
    if (config.is_moe()) {
      l.router = r.get(p + "mlp.gate.weight");
      l.experts = r.experts(p + "mlp.", config.moe.num_experts);
      l.shared_expert = r.mlp(p + "mlp.shared_expert.");
      l.shared_expert_gate = r.get(p + "mlp.shared_expert_gate.weight");
    } else {
      l.mlp = r.mlp(p + "mlp.");
    }
    w.layers.push_back(std::move(l));
  }
  w.final_norm = r.get("model.norm.weight");
  w.lm_head = r.lm_head(config, w.embed_tokens);
  return w;
}

}  // namespace arle::model
