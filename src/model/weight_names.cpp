#include "model/weight_names.h"

#include <fmt/format.h>

#include "common/log.h"

namespace arle::model {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Builder {
  std::vector<ExpectedTensor> out;
  void add(std::string name, Shape shape, bool optional = false) {
    out.push_back({std::move(name), std::move(shape), optional});
  }
};

void add_attention(Builder& b, const ModelConfig& c, const std::string& p) {
  const std::int64_t h = c.hidden_size;
  const std::int64_t q_rows = c.q_size() * (c.attn_output_gate ? 2 : 1);
  b.add(p + "self_attn.q_proj.weight", {q_rows, h});
  b.add(p + "self_attn.k_proj.weight", {c.kv_size(), h});
  b.add(p + "self_attn.v_proj.weight", {c.kv_size(), h});
  b.add(p + "self_attn.o_proj.weight", {h, c.q_size()});
  if (c.attention_bias) {
    b.add(p + "self_attn.q_proj.bias", {q_rows});
    b.add(p + "self_attn.k_proj.bias", {c.kv_size()});
    b.add(p + "self_attn.v_proj.bias", {c.kv_size()});
    // Qwen2 has q/k/v biases only; Llama's attention_bias covers o_proj too.
    if (c.architecture == Architecture::kLlama) b.add(p + "self_attn.o_proj.bias", {h});
  }
  if (c.qk_norm) {
    b.add(p + "self_attn.q_norm.weight", {c.head_dim});
    b.add(p + "self_attn.k_norm.weight", {c.head_dim});
  }
}

void add_linear_attention(Builder& b, const ModelConfig& c, const std::string& p) {
  const auto& l = c.linear;
  const std::int64_t h = c.hidden_size;
  const std::int64_t key_dim = l.num_key_heads * l.key_head_dim;
  const std::int64_t value_dim = l.num_value_heads * l.value_head_dim;
  const std::int64_t conv_dim = 2 * key_dim + value_dim;
  b.add(p + "linear_attn.in_proj_qkv.weight", {conv_dim, h});
  b.add(p + "linear_attn.in_proj_z.weight", {value_dim, h});
  b.add(p + "linear_attn.in_proj_b.weight", {l.num_value_heads, h});
  b.add(p + "linear_attn.in_proj_a.weight", {l.num_value_heads, h});
  b.add(p + "linear_attn.conv1d.weight", {conv_dim, 1, l.conv_kernel_dim});
  b.add(p + "linear_attn.dt_bias", {l.num_value_heads});
  b.add(p + "linear_attn.A_log", {l.num_value_heads});
  b.add(p + "linear_attn.norm.weight", {l.value_head_dim});
  b.add(p + "linear_attn.out_proj.weight", {h, value_dim});
}

void add_mlp(Builder& b, const ModelConfig& c, const std::string& p, std::int64_t inter) {
  const std::int64_t h = c.hidden_size;
  b.add(p + "gate_proj.weight", {inter, h});
  b.add(p + "up_proj.weight", {inter, h});
  b.add(p + "down_proj.weight", {h, inter});
  if (c.mlp_bias) {
    b.add(p + "gate_proj.bias", {inter});
    b.add(p + "up_proj.bias", {inter});
    b.add(p + "down_proj.bias", {h});
  }
}

void add_moe(Builder& b, const ModelConfig& c, const std::string& p, bool fused) {
  const std::int64_t h = c.hidden_size;
  const auto& m = c.moe;
  b.add(p + "mlp.gate.weight", {m.num_experts, h});
  if (fused) {
    b.add(p + "mlp.experts.gate_up_proj", {m.num_experts, 2 * m.expert_intermediate_size, h});
    b.add(p + "mlp.experts.down_proj", {m.num_experts, h, m.expert_intermediate_size});
  } else {
    for (std::int64_t e = 0; e < m.num_experts; ++e) {
      add_mlp(b, c, fmt::format("{}mlp.experts.{}.", p, e), m.expert_intermediate_size);
    }
  }
  if (m.shared_expert_intermediate_size > 0) {
    add_mlp(b, c, p + "mlp.shared_expert.", m.shared_expert_intermediate_size);
    b.add(p + "mlp.shared_expert_gate.weight", {1, h});
  }
}

}  // namespace

MappedName map_checkpoint_name(std::string_view name) {
  if (starts_with(name, "model.visual.") || starts_with(name, "visual.") ||
      starts_with(name, "model.vision_tower.") || starts_with(name, "vision_tower.")) {
    return {"", "vision"};
  }
  if (starts_with(name, "mtp.") || starts_with(name, "model.mtp.")) return {"", "mtp"};
  if (ends_with(name, ".rotary_emb.inv_freq")) return {"", "rotary_buffers"};
  if (starts_with(name, "model.language_model.")) return {"model." + std::string(name.substr(21)), ""};
  if (starts_with(name, "language_model.model.")) return {"model." + std::string(name.substr(21)), ""};
  if (starts_with(name, "language_model.lm_head.")) return {std::string(name.substr(15)), ""};
  return {std::string(name), ""};
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c, const std::vector<bool>& fused_expert_layers) {
  Builder b;
  b.add("model.embed_tokens.weight", {c.vocab_size, c.hidden_size});
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    b.add(p + "input_layernorm.weight", {c.hidden_size});
    b.add(p + "post_attention_layernorm.weight", {c.hidden_size});
    if (c.layer_types[static_cast<std::size_t>(i)] == LayerType::kLinearAttention) {
      add_linear_attention(b, c, p);
    } else {
      add_attention(b, c, p);
    }
    if (c.is_moe_layer(i)) {
      bool fused = static_cast<std::size_t>(i) < fused_expert_layers.size() &&
                   fused_expert_layers[static_cast<std::size_t>(i)];
      add_moe(b, c, p, fused);
    } else {
      add_mlp(b, c, p + "mlp.", c.intermediate_size);
    }
  }
  b.add("model.norm.weight", {c.hidden_size});
  // Tied checkpoints sometimes still carry a copy of the head.
  b.add("lm_head.weight", {c.vocab_size, c.hidden_size}, c.tie_word_embeddings);
  return b.out;
}

WeightReport check_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  WeightReport report;
  std::map<std::string, const TensorInfo*> by_canonical;
  for (const TensorInfo* info : checkpoint.tensors()) {
    MappedName mapped = map_checkpoint_name(info->name);
    if (!mapped.ignored_group.empty()) {
      ++report.ignored[mapped.ignored_group];
      continue;
    }
    by_canonical[mapped.canonical] = info;
    report.canonical_to_checkpoint[mapped.canonical] = info->name;
  }
  for (const auto& [group, count] : report.ignored) {
    log::info("ignoring {} {} tensors (not part of the text model)", count, group);
  }

  std::vector<bool> fused(static_cast<std::size_t>(config.num_layers), false);
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    fused[static_cast<std::size_t>(i)] =
        by_canonical.count(fmt::format("model.layers.{}.mlp.experts.gate_up_proj", i)) > 0;
  }

  std::map<std::string, bool> expected_names;
  for (const ExpectedTensor& e : expected_tensors(config, fused)) {
    expected_names[e.name] = true;
    auto it = by_canonical.find(e.name);
    if (it == by_canonical.end()) {
      if (!e.optional) report.missing.push_back(e.name);
      continue;
    }
    if (it->second->shape != e.shape) report.mismatched.push_back({e.name, e.shape, it->second->shape});
  }
  for (const auto& [canonical, info] : by_canonical) {
    if (!expected_names.count(canonical)) report.unexpected.push_back(info->name);
  }
  return report;
}

}  // namespace arle::model
