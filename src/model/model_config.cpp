#include "model/model_config.h"

#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/json_file.h"

namespace arle::model {
namespace {

using nlohmann::json;

// Far above any released model (Qwen3.5-397B: 60 layers, 512 experts), low
// enough that a hostile config cannot make ARLE build billions of names.
constexpr std::int64_t kMaxLayers = 1024;
constexpr std::int64_t kMaxExperts = 4096;

struct ArchitectureName {
  const char* name;
  Architecture arch;
  bool multimodal;
};

constexpr ArchitectureName kArchitectures[] = {
    {"LlamaForCausalLM", Architecture::kLlama, false},
    {"Qwen2ForCausalLM", Architecture::kQwen2, false},
    {"Qwen3ForCausalLM", Architecture::kQwen3, false},
    {"Qwen3MoeForCausalLM", Architecture::kQwen3Moe, false},
    {"Qwen3_5ForCausalLM", Architecture::kQwen3_5, false},
    {"Qwen3_5ForConditionalGeneration", Architecture::kQwen3_5, true},
    {"Qwen3_5MoeForCausalLM", Architecture::kQwen3_5Moe, false},
    {"Qwen3_5MoeForConditionalGeneration", Architecture::kQwen3_5Moe, true},
};

// Typed access to one JSON object with errors that name the file and key.
// JSON null counts as absent (transformers writes "sliding_window": null).
class Fields {
 public:
  Fields(const json& object, std::string label) : object_(object), label_(std::move(label)) {}

  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  bool has(const char* key) const { return find(key) != nullptr; }

  std::optional<std::int64_t> integer(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      fail("\"{}\" = {} is out of range", key, v->get<std::uint64_t>());
    }
    if (v->is_number_integer()) return v->get<std::int64_t>();
    // Some configs write integral values as floats (e.g. 1000000.0). Range
    // first: casting an out-of-range double to an integer is undefined.
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (d >= -9.2e18 && d <= 9.2e18 && d == std::trunc(d)) return static_cast<std::int64_t>(d);
    }
    fail("\"{}\" must be an integer, got {}", key, describe_json(*v));
  }
  std::int64_t positive(const char* key, std::optional<std::int64_t> fallback = std::nullopt) const {
    auto v = integer(key);
    if (!v) {
      if (!fallback) fail("\"{}\" is missing", key);
      return *fallback;
    }
    // 2^31 bounds every dimension ARLE indexes with 32-bit kernels.
    if (*v <= 0 || *v > (std::int64_t{1} << 31)) fail("\"{}\" = {} is out of range", key, *v);
    return *v;
  }
  std::optional<double> number(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail("\"{}\" must be a number, got {}", key, describe_json(*v));
    return v->get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail("\"{}\" must be true or false, got {}", key, describe_json(*v));
    return v->get<bool>();
  }
  std::optional<std::string> string(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail("\"{}\" must be a string, got {}", key, describe_json(*v));
    return v->get<std::string>();
  }
  std::vector<std::int64_t> integer_list(const char* key) const {
    std::vector<std::int64_t> out;
    const json* v = find(key);
    if (!v) return out;
    if (v->is_number_integer()) return {v->get<std::int64_t>()};
    if (!v->is_array()) fail("\"{}\" must be an integer or a list of integers, got {}", key, describe_json(*v));
    for (const json& e : *v) {
      if (!e.is_number_integer()) fail("\"{}\" must hold integers, got {}", key, describe_json(e));
      out.push_back(e.get<std::int64_t>());
    }
    return out;
  }

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) const {
    throw Error(ErrorCode::kInvalidModel, fmt::format("{}: {}", label_, fmt::format(f, std::forward<Args>(args)...)));
  }

 private:
  const json& object_;
  std::string label_;
};

void read_rope(const Fields& text, ModelConfig& cfg) {
  // transformers 5: "rope_parameters" holds theta, type and partial factor.
  // transformers 4: top-level "rope_theta" and an optional "rope_scaling".
  const json* params = text.find("rope_parameters");
  const json* scaling = text.find("rope_scaling");
  if (params && !params->is_object()) text.fail("\"rope_parameters\" must be an object");
  if (scaling && !scaling->is_object()) text.fail("\"rope_scaling\" must be an object or null");
  const json* source = params ? params : scaling;

  if (auto theta = text.number("rope_theta")) cfg.rope.theta = *theta;
  // transformers' Qwen3.5 configs default the factor to 0.25 when absent.
  if (cfg.architecture == Architecture::kQwen3_5 || cfg.architecture == Architecture::kQwen3_5Moe) {
    cfg.rope.partial_rotary_factor = 0.25;
  }
  if (auto factor = text.number("partial_rotary_factor")) cfg.rope.partial_rotary_factor = *factor;
  if (source) {
    Fields rope(*source, "rope parameters");
    if (auto theta = rope.number("rope_theta")) cfg.rope.theta = *theta;
    if (auto factor = rope.number("partial_rotary_factor")) cfg.rope.partial_rotary_factor = *factor;
    if (auto type = rope.string("rope_type")) {
      cfg.rope.type = *type;
    } else if (auto legacy = rope.string("type")) {
      cfg.rope.type = *legacy;
    }
    if (auto f = rope.number("factor")) cfg.rope.factor = *f;
    if (auto f = rope.number("low_freq_factor")) cfg.rope.low_freq_factor = *f;
    if (auto f = rope.number("high_freq_factor")) cfg.rope.high_freq_factor = *f;
    if (auto n = rope.integer("original_max_position_embeddings")) cfg.rope.original_max_position_embeddings = *n;
    cfg.rope.beta_fast = rope.number("beta_fast");
    cfg.rope.beta_slow = rope.number("beta_slow");
    cfg.rope.attention_factor = rope.number("attention_factor");
    cfg.rope.mrope_section = rope.integer_list("mrope_section");
    cfg.rope.mrope_interleaved = rope.boolean("mrope_interleaved", false);
  }
  if (!(cfg.rope.theta > 0)) text.fail("rope_theta = {} must be positive", cfg.rope.theta);
  if (!(cfg.rope.partial_rotary_factor > 0 && cfg.rope.partial_rotary_factor <= 1)) {
    text.fail("partial_rotary_factor = {} must be in (0, 1]", cfg.rope.partial_rotary_factor);
  }
  static const std::vector<std::string> kKnown = {"default", "linear", "dynamic", "yarn", "llama3", "longrope"};
  if (std::find(kKnown.begin(), kKnown.end(), cfg.rope.type) == kKnown.end()) {
    throw_error(ErrorCode::kUnsupported, "rope type '{}' is not supported (supported: {})", cfg.rope.type,
                fmt::join(kKnown, ", "));
  }
}

std::vector<LayerType> read_layer_types(const Fields& text, const ModelConfig& cfg) {
  std::vector<LayerType> types;
  if (const json* list = text.find("layer_types")) {
    if (!list->is_array()) text.fail("\"layer_types\" must be a list");
    for (const json& t : *list) {
      std::string name = t.is_string() ? t.get<std::string>() : describe_json(t);
      if (name == "full_attention") {
        types.push_back(LayerType::kFullAttention);
      } else if (name == "linear_attention") {
        types.push_back(LayerType::kLinearAttention);
      } else if (name == "sliding_attention") {
        types.push_back(LayerType::kSlidingAttention);
      } else {
        text.fail("unknown layer type {} (known: full_attention, linear_attention, sliding_attention)", name);
      }
    }
    if (static_cast<std::int64_t>(types.size()) != cfg.num_layers) {
      text.fail("\"layer_types\" has {} entries but num_hidden_layers is {}", types.size(), cfg.num_layers);
    }
    return types;
  }
  bool hybrid = cfg.architecture == Architecture::kQwen3_5 || cfg.architecture == Architecture::kQwen3_5Moe;
  std::int64_t interval = hybrid ? text.positive("full_attention_interval", 4) : 1;
  for (std::int64_t i = 0; i < cfg.num_layers; ++i) {
    types.push_back((i + 1) % interval == 0 ? LayerType::kFullAttention : LayerType::kLinearAttention);
  }
  return types;
}

}  // namespace

std::string_view architecture_family(Architecture arch) {
  switch (arch) {
    case Architecture::kLlama: return "llama";
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kQwen3: return "qwen3";
    case Architecture::kQwen3Moe: return "qwen3_moe";
    case Architecture::kQwen3_5: return "qwen3_5";
    case Architecture::kQwen3_5Moe: return "qwen3_5_moe";
  }
  return "?";
}

const std::vector<std::string>& supported_architecture_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& a : kArchitectures) v.emplace_back(a.name);
    return v;
  }();
  return names;
}

std::string_view layer_type_name(LayerType type) {
  switch (type) {
    case LayerType::kFullAttention: return "full_attention";
    case LayerType::kLinearAttention: return "linear_attention";
    case LayerType::kSlidingAttention: return "sliding_attention";
  }
  return "?";
}

bool ModelConfig::is_moe_layer(std::int64_t layer) const {
  if (!is_moe()) return false;
  for (std::int64_t l : moe.mlp_only_layers) {
    if (l == layer) return false;
  }
  return (layer + 1) % moe.decoder_sparse_step == 0;
}

std::int64_t ModelConfig::rotary_dim() const {
  auto dim = static_cast<std::int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  return dim - dim % 2;
}

ModelConfig parse_model_config(const json& config, const std::string& label) {
  if (!config.is_object()) throw_error(ErrorCode::kInvalidModel, "{}: not a JSON object", label);
  Fields top(config, label);
  ModelConfig cfg;

  const json* archs = top.find("architectures");
  if (!archs || !archs->is_array() || archs->empty() || !(*archs)[0].is_string()) {
    top.fail("\"architectures\" must be a non-empty list of names (supported: {})",
             fmt::join(supported_architecture_names(), ", "));
  }
  cfg.architecture_name = (*archs)[0].get<std::string>();
  const ArchitectureName* match = nullptr;
  for (const auto& a : kArchitectures) {
    if (cfg.architecture_name == a.name) match = &a;
  }
  if (!match) {
    throw_error(ErrorCode::kUnsupported, "{}: architecture '{}' is not supported; supported: {}", label,
                cfg.architecture_name, fmt::join(supported_architecture_names(), ", "));
  }
  cfg.architecture = match->arch;
  cfg.multimodal_checkpoint = match->multimodal;
  cfg.model_type = top.string("model_type").value_or("");

  // Multimodal Qwen3.5 checkpoints keep the language model under text_config.
  const json* text_json = &config;
  std::string text_label = label;
  if (const json* text_config = top.find("text_config")) {
    if (!text_config->is_object()) top.fail("\"text_config\" must be an object");
    text_json = text_config;
    text_label = label + " (text_config)";
  } else if (cfg.multimodal_checkpoint) {
    top.fail("{} needs a \"text_config\" object", cfg.architecture_name);
  }
  Fields text(*text_json, text_label);
  if (text_json != &config) cfg.model_type = text.string("model_type").value_or(cfg.model_type);

  const bool qwen3_family = cfg.architecture == Architecture::kQwen3 || cfg.architecture == Architecture::kQwen3Moe ||
                            cfg.architecture == Architecture::kQwen3_5 ||
                            cfg.architecture == Architecture::kQwen3_5Moe;
  const bool hybrid = cfg.architecture == Architecture::kQwen3_5 || cfg.architecture == Architecture::kQwen3_5Moe;
  const bool moe = cfg.architecture == Architecture::kQwen3Moe || cfg.architecture == Architecture::kQwen3_5Moe;

  cfg.vocab_size = text.positive("vocab_size");
  cfg.hidden_size = text.positive("hidden_size");
  cfg.num_layers = text.positive("num_hidden_layers");
  if (cfg.num_layers > kMaxLayers) text.fail("num_hidden_layers = {} exceeds ARLE's limit of {}", cfg.num_layers, kMaxLayers);
  cfg.num_attention_heads = text.positive("num_attention_heads");
  cfg.num_kv_heads = text.positive("num_key_value_heads", cfg.num_attention_heads);
  if (cfg.num_attention_heads % cfg.num_kv_heads != 0) {
    text.fail("num_attention_heads ({}) is not a multiple of num_key_value_heads ({})", cfg.num_attention_heads,
              cfg.num_kv_heads);
  }
  if (text.has("head_dim")) {
    cfg.head_dim = text.positive("head_dim");
  } else if (hybrid) {
    cfg.head_dim = 256;  // Qwen3_5TextConfig default
  } else {
    if (cfg.hidden_size % cfg.num_attention_heads != 0) {
      text.fail("hidden_size ({}) is not divisible by num_attention_heads ({}) and head_dim is not given",
                cfg.hidden_size, cfg.num_attention_heads);
    }
    cfg.head_dim = cfg.hidden_size / cfg.num_attention_heads;
  }
  // Pure-MoE models may omit the dense size; it is only needed for mlp_only layers.
  cfg.intermediate_size = text.has("intermediate_size") ? text.positive("intermediate_size") : 0;
  if (!moe && cfg.intermediate_size == 0) text.fail("\"intermediate_size\" is missing");
  cfg.max_position_embeddings = text.positive("max_position_embeddings", 2048);
  cfg.rms_norm_eps = text.number("rms_norm_eps").value_or(1e-6);
  if (!(cfg.rms_norm_eps > 0 && cfg.rms_norm_eps < 1)) text.fail("rms_norm_eps = {} is out of range", cfg.rms_norm_eps);
  cfg.hidden_act = text.string("hidden_act").value_or("silu");
  if (cfg.hidden_act != "silu") {
    throw_error(ErrorCode::kUnsupported, "{}: hidden_act '{}' is not supported (only silu)", text_label, cfg.hidden_act);
  }

  cfg.attention_bias = text.boolean("attention_bias", cfg.architecture == Architecture::kQwen2);
  cfg.mlp_bias = text.boolean("mlp_bias", false);
  cfg.qk_norm = qwen3_family;
  cfg.attn_output_gate = hybrid && text.boolean("attn_output_gate", true);
  // tie_word_embeddings may sit at the top level of multimodal configs.
  cfg.tie_word_embeddings = text.boolean("tie_word_embeddings", top.boolean("tie_word_embeddings", false));
  for (const char* key : {"dtype", "torch_dtype"}) {
    if (cfg.dtype) break;
    auto name = text.string(key);
    if (!name) name = top.string(key);
    if (name) cfg.dtype = dtype_from_torch_name(*name);
  }
  if (text.boolean("use_sliding_window", false)) cfg.sliding_window = text.positive("sliding_window");

  read_rope(text, cfg);
  cfg.layer_types = read_layer_types(text, cfg);
  for (LayerType t : cfg.layer_types) {
    if (t == LayerType::kLinearAttention && !hybrid) {
      text.fail("linear_attention layers need a Qwen3.5 architecture, not {}", cfg.architecture_name);
    }
  }

  if (moe) {
    cfg.moe.num_experts = text.has("num_experts") ? text.positive("num_experts") : text.positive("num_local_experts");
    if (cfg.moe.num_experts > kMaxExperts) {
      text.fail("{} experts exceed ARLE's limit of {}", cfg.moe.num_experts, kMaxExperts);
    }
    cfg.moe.experts_per_token = text.positive("num_experts_per_tok");
    if (cfg.moe.experts_per_token > cfg.moe.num_experts) {
      text.fail("num_experts_per_tok ({}) exceeds the number of experts ({})", cfg.moe.experts_per_token,
                cfg.moe.num_experts);
    }
    cfg.moe.expert_intermediate_size = text.positive("moe_intermediate_size");
    cfg.moe.norm_topk_prob = text.boolean("norm_topk_prob", true);
    cfg.moe.decoder_sparse_step = text.positive("decoder_sparse_step", 1);
    cfg.moe.mlp_only_layers = text.integer_list("mlp_only_layers");
    if (!cfg.moe.mlp_only_layers.empty() && cfg.intermediate_size == 0) {
      text.fail("\"mlp_only_layers\" needs \"intermediate_size\"");
    }
    if (cfg.architecture == Architecture::kQwen3_5Moe) {
      cfg.moe.shared_expert_intermediate_size = text.positive("shared_expert_intermediate_size");
    }
  }
  if (hybrid) {
    cfg.linear.conv_kernel_dim = text.positive("linear_conv_kernel_dim", 4);
    cfg.linear.key_head_dim = text.positive("linear_key_head_dim", 128);
    cfg.linear.value_head_dim = text.positive("linear_value_head_dim", 128);
    cfg.linear.num_key_heads = text.positive("linear_num_key_heads", 16);
    cfg.linear.num_value_heads = text.positive("linear_num_value_heads", 32);
    if (cfg.linear.num_value_heads % cfg.linear.num_key_heads != 0) {
      text.fail("linear_num_value_heads ({}) is not a multiple of linear_num_key_heads ({})",
                cfg.linear.num_value_heads, cfg.linear.num_key_heads);
    }
  }

  // Token ids may sit in text_config or at the top level.
  auto token = [&](const char* key) { return text.has(key) ? text.integer(key) : top.integer(key); };
  cfg.bos_token_id = token("bos_token_id");
  cfg.pad_token_id = token("pad_token_id");
  cfg.eos_token_ids = text.has("eos_token_id") ? text.integer_list("eos_token_id") : top.integer_list("eos_token_id");
  return cfg;
}

ModelConfig load_model_config(const std::filesystem::path& model_dir) {
  std::filesystem::path path = model_dir / "config.json";
  return parse_model_config(read_json_file(path), path.string());
}

}  // namespace arle::model
