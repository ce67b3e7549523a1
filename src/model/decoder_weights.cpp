#include "model/decoder_weights.h"

#include <fmt/format.h>

#include "model/weight_reader.h"

namespace arle::model {

DecoderWeights load_decoder_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  const WeightReport report = require_complete_weights(config, checkpoint);
  DecoderWeights w;
  WeightReader r(checkpoint, report, w.bytes);
  w.embed_tokens = r.get("model.embed_tokens.weight");
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    DecoderLayerWeights l;
    l.input_norm = r.get(p + "input_layernorm.weight");
    l.post_attention_norm = r.get(p + "post_attention_layernorm.weight");
    const std::string a = p + "self_attn.";
    l.qkv = r.concat_rows({r.get(a + "q_proj.weight"), r.get(a + "k_proj.weight"), r.get(a + "v_proj.weight")});
    if (r.has(a + "q_proj.bias")) {
      l.qkv_bias = r.concat_rows({r.get(a + "q_proj.bias"), r.get(a + "k_proj.bias"), r.get(a + "v_proj.bias")});
    }
    l.o_proj = r.get(a + "o_proj.weight");
    l.o_bias = r.get_optional(a + "o_proj.bias");
    if (config.qk_norm) {
      l.q_norm = r.get(a + "q_norm.weight");
      l.k_norm = r.get(a + "k_norm.weight");
    }
    if (config.is_moe_layer(i)) {
      l.router = r.get(p + "mlp.gate.weight");
      l.experts = r.experts(p + "mlp.", config.moe.num_experts);
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
