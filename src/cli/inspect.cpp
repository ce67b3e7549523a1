#include "cli/inspect.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "common/units.h"
#include "model/checkpoint.h"
#include "model/generation_config.h"
#include "model/model_config.h"
#include "model/weight_names.h"

namespace arle::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace arle::model;

template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json config_json(const ModelConfig& c) {
  json j = {
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_kv_heads},
      {"head_dim", c.head_dim},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"hidden_act", c.hidden_act},
      {"attention_bias", c.attention_bias},
      {"mlp_bias", c.mlp_bias},
      {"qk_norm", c.qk_norm},
      {"attn_output_gate", c.attn_output_gate},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"sliding_window", c.sliding_window},
      {"dtype", c.dtype ? json(dtype_name(*c.dtype)) : json(nullptr)},
      {"bos_token_id", optional_json(c.bos_token_id)},
      {"eos_token_ids", c.eos_token_ids},
      {"pad_token_id", optional_json(c.pad_token_id)},
  };
  j["rope"] = {{"type", c.rope.type},
               {"theta", c.rope.theta},
               {"partial_rotary_factor", c.rope.partial_rotary_factor},
               {"rotary_dim", c.rotary_dim()}};
  if (c.rope.type != "default") {
    j["rope"]["factor"] = c.rope.factor;
    j["rope"]["low_freq_factor"] = c.rope.low_freq_factor;
    j["rope"]["high_freq_factor"] = c.rope.high_freq_factor;
    j["rope"]["original_max_position_embeddings"] = c.rope.original_max_position_embeddings;
  }
  if (!c.rope.mrope_section.empty()) {
    j["rope"]["mrope_section"] = c.rope.mrope_section;
    j["rope"]["mrope_interleaved"] = c.rope.mrope_interleaved;
  }
  json layer_types = json::array();
  for (LayerType t : c.layer_types) layer_types.push_back(layer_type_name(t));
  j["layer_types"] = layer_types;
  if (c.is_moe()) {
    j["moe"] = {{"num_experts", c.moe.num_experts},
                {"num_experts_per_tok", c.moe.experts_per_token},
                {"moe_intermediate_size", c.moe.expert_intermediate_size},
                {"shared_expert_intermediate_size", c.moe.shared_expert_intermediate_size},
                {"norm_topk_prob", c.moe.norm_topk_prob},
                {"decoder_sparse_step", c.moe.decoder_sparse_step},
                {"mlp_only_layers", c.moe.mlp_only_layers}};
  }
  if (c.linear.num_value_heads > 0) {
    j["linear_attention"] = {{"conv_kernel_dim", c.linear.conv_kernel_dim},
                             {"key_head_dim", c.linear.key_head_dim},
                             {"value_head_dim", c.linear.value_head_dim},
                             {"num_key_heads", c.linear.num_key_heads},
                             {"num_value_heads", c.linear.num_value_heads}};
  }
  return j;
}

json generation_json(const GenerationConfig& g) {
  if (!g.present) return nullptr;
  return {{"bos_token_id", optional_json(g.bos_token_id)},
          {"eos_token_ids", g.eos_token_ids},
          {"pad_token_id", optional_json(g.pad_token_id)},
          {"do_sample", optional_json(g.do_sample)},
          {"temperature", optional_json(g.temperature)},
          {"top_p", optional_json(g.top_p)},
          {"top_k", optional_json(g.top_k)},
          {"min_p", optional_json(g.min_p)},
          {"repetition_penalty", optional_json(g.repetition_penalty)},
          {"max_new_tokens", optional_json(g.max_new_tokens)}};
}

bool has_weights(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "model.safetensors", ec) || fs::exists(dir / "model.safetensors.index.json", ec);
}

// Compact run-length summary: "3x linear_attention, full_attention, ..."
std::string layer_summary(const json& types) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < types.size();) {
    std::size_t j = i;
    while (j < types.size() && types[j] == types[i]) ++j;
    std::string name = types[i].get<std::string>();
    parts.push_back(j - i == 1 ? name : fmt::format("{}x {}", j - i, name));
    i = j;
  }
  if (parts.size() > 8)
    return fmt::format("{} ... ({} runs)", fmt::join(parts.begin(), parts.begin() + 8, ", "), parts.size());
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

json inspect_model(const fs::path& model_path) {
  std::error_code ec;
  const bool is_file = fs::is_regular_file(model_path, ec);
  const fs::path dir = is_file ? model_path.parent_path() : model_path;
  ModelConfig config = load_model_config(dir);
  json report = {
      {"path", fs::absolute(model_path).string()},
      {"architecture", config.architecture_name},
      {"family", architecture_family(config.architecture)},
      {"model_type", config.model_type},
      {"multimodal_checkpoint", config.multimodal_checkpoint},
      {"config", config_json(config)},
      {"generation_config", generation_json(load_generation_config(dir))},
      {"checkpoint", nullptr},
      {"weights", nullptr},
  };
  if (!is_file && !has_weights(dir)) return report;

  Checkpoint checkpoint = Checkpoint::open(model_path);
  json shards = json::array();
  for (const auto& s : checkpoint.shards()) shards.push_back(s->path().filename().string());
  std::map<std::string, std::int64_t> dtype_tensors, dtype_params;
  for (const TensorInfo* t : checkpoint.tensors()) {
    ++dtype_tensors[std::string(dtype_name(t->dtype))];
    dtype_params[std::string(dtype_name(t->dtype))] += t->numel();
  }
  json dtypes = json::object();
  for (const auto& [name, count] : dtype_tensors)
    dtypes[name] = {{"tensors", count}, {"parameters", dtype_params[name]}};
  report["checkpoint"] = {{"shards", shards},
                          {"tensor_count", checkpoint.tensors().size()},
                          {"dtypes", dtypes},
                          {"parameters", checkpoint.parameter_count()},
                          {"bytes", checkpoint.byte_count()}};

  WeightReport weights = check_weights(config, checkpoint);
  json mismatches = json::array();
  for (const auto& m : weights.mismatched) {
    mismatches.push_back({{"name", m.name}, {"expected", m.expected}, {"actual", m.actual}});
  }
  report["weights"] = {{"complete", weights.complete()},
                       {"missing", weights.missing},
                       {"unexpected", weights.unexpected},
                       {"shape_mismatches", mismatches},
                       {"ignored", weights.ignored}};
  return report;
}

std::string render_inspect_text(const json& r) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) { out += fmt::format("{:<26}{}\n", key, value); };
  const json& c = r["config"];
  line("path", r["path"].get<std::string>());
  line("architecture",
       fmt::format("{} ({}{})", r["architecture"].get<std::string>(), r["family"].get<std::string>(),
                   r["multimodal_checkpoint"].get<bool>() ? ", text model of a multimodal checkpoint" : ""));
  line("dtype (config)", c["dtype"].is_null() ? "unspecified" : c["dtype"].get<std::string>());
  line("vocab_size", std::to_string(c["vocab_size"].get<std::int64_t>()));
  line("hidden_size", std::to_string(c["hidden_size"].get<std::int64_t>()));
  line("intermediate_size", std::to_string(c["intermediate_size"].get<std::int64_t>()));
  line("layers", fmt::format("{} ({})", c["num_hidden_layers"].get<std::int64_t>(), layer_summary(c["layer_types"])));
  line("attention heads", fmt::format("{} q, {} kv, head_dim {}{}{}", c["num_attention_heads"].get<std::int64_t>(),
                                      c["num_key_value_heads"].get<std::int64_t>(), c["head_dim"].get<std::int64_t>(),
                                      c["qk_norm"].get<bool>() ? ", qk-norm" : "",
                                      c["attn_output_gate"].get<bool>() ? ", output gate" : ""));
  const json& rope = c["rope"];
  line("rope", fmt::format("{} theta={} rotary_dim={}", rope["type"].get<std::string>(), rope["theta"].get<double>(),
                           rope["rotary_dim"].get<std::int64_t>()));
  if (c.contains("moe")) {
    const json& m = c["moe"];
    line("moe",
         fmt::format("{} experts, top-{}, expert size {}, shared expert size {}", m["num_experts"].get<std::int64_t>(),
                     m["num_experts_per_tok"].get<std::int64_t>(), m["moe_intermediate_size"].get<std::int64_t>(),
                     m["shared_expert_intermediate_size"].get<std::int64_t>()));
  }
  if (c.contains("linear_attention")) {
    const json& l = c["linear_attention"];
    line("linear attention",
         fmt::format("{} k heads x {}, {} v heads x {}, conv {}", l["num_key_heads"].get<std::int64_t>(),
                     l["key_head_dim"].get<std::int64_t>(), l["num_value_heads"].get<std::int64_t>(),
                     l["value_head_dim"].get<std::int64_t>(), l["conv_kernel_dim"].get<std::int64_t>()));
  }
  line("max_position_embeddings", std::to_string(c["max_position_embeddings"].get<std::int64_t>()));
  line("rms_norm_eps", fmt::format("{}", c["rms_norm_eps"].get<double>()));
  line("tie_word_embeddings", c["tie_word_embeddings"].get<bool>() ? "true" : "false");
  line("eos_token_ids", fmt::format("{}", fmt::join(c["eos_token_ids"].get<std::vector<std::int64_t>>(), ", ")));

  if (r["checkpoint"].is_null()) {
    line("weights", "none (no model.safetensors or index in the folder)");
    return out;
  }
  const json& ck = r["checkpoint"];
  std::vector<std::string> dtypes;
  for (const auto& [name, d] : ck["dtypes"].items()) {
    dtypes.push_back(fmt::format("{} ({} tensors)", name, d["tensors"].get<std::int64_t>()));
  }
  line("shards", std::to_string(ck["shards"].size()));
  line("tensors", std::to_string(ck["tensor_count"].get<std::int64_t>()));
  line("dtype (weights)", fmt::format("{}", fmt::join(dtypes, ", ")));
  auto params = ck["parameters"].get<std::int64_t>();
  line("parameters", fmt::format("{} ({})", params, human_count(static_cast<double>(params))));
  auto bytes = ck["bytes"].get<std::uint64_t>();
  line("bytes", fmt::format("{} ({})", bytes, human_bytes(static_cast<double>(bytes))));

  const json& w = r["weights"];
  line("weights", w["complete"].get<bool>() ? "complete" : "INCOMPLETE");
  for (const auto& name : w["missing"]) line("  missing", name.get<std::string>());
  for (const auto& m : w["shape_mismatches"]) {
    line("  wrong shape", fmt::format("{}: expected {}, got {}", m["name"].get<std::string>(), m["expected"].dump(),
                                      m["actual"].dump()));
  }
  for (const auto& name : w["unexpected"]) line("  unexpected", name.get<std::string>());
  for (const auto& [group, count] : w["ignored"].items()) {
    line("  ignored", fmt::format("{} {} tensors", count.get<std::int64_t>(), group));
  }
  return out;
}

}  // namespace arle::cli
