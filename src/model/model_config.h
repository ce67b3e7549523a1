#pragma once
// ModelConfig: the parts of a Hugging Face config.json that decide the shape
// and math of the network, normalised across transformers 4 and 5 layouts
// and across the text-only and multimodal (text_config) Qwen3.5 checkpoints.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace arle::model {

enum class Architecture { kLlama, kQwen2, kQwen3, kQwen3Moe, kQwen3_5, kQwen3_5Moe };

std::string_view architecture_family(Architecture arch);  // "llama", "qwen3_moe", ...
// The `architectures` names ARLE accepts, for error messages and docs.
const std::vector<std::string>& supported_architecture_names();

enum class LayerType { kFullAttention, kLinearAttention, kSlidingAttention };
std::string_view layer_type_name(LayerType type);

struct RopeConfig {
  std::string type = "default";  // default | linear | dynamic | yarn | llama3 | longrope
  double theta = 10000.0;
  double partial_rotary_factor = 1.0;
  double factor = 1.0;  // scaling factor of linear/dynamic/yarn/llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 0;
  std::optional<double> beta_fast, beta_slow, attention_factor;  // yarn
  std::vector<std::int64_t> mrope_section;                       // Qwen3.5 multimodal RoPE
  bool mrope_interleaved = false;
};

struct MoeConfig {
  std::int64_t num_experts = 0;
  std::int64_t experts_per_token = 0;
  std::int64_t expert_intermediate_size = 0;
  std::int64_t shared_expert_intermediate_size = 0;  // 0: no shared expert
  bool norm_topk_prob = true;
  std::int64_t decoder_sparse_step = 1;
  std::vector<std::int64_t> mlp_only_layers;
};

struct LinearAttentionConfig {  // Gated DeltaNet layers of Qwen3.5
  std::int64_t conv_kernel_dim = 0;
  std::int64_t key_head_dim = 0;
  std::int64_t value_head_dim = 0;
  std::int64_t num_key_heads = 0;
  std::int64_t num_value_heads = 0;
};

struct ModelConfig {
  std::string architecture_name;  // as written in config.json
  Architecture architecture = Architecture::kLlama;
  std::string model_type;
  bool multimodal_checkpoint = false;  // *ForConditionalGeneration: text under text_config

  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  std::string hidden_act = "silu";
  bool attention_bias = false;     // q/k/v (and o for llama) biases
  bool mlp_bias = false;
  bool qk_norm = false;            // per-head RMSNorm on q and k (Qwen3 family)
  bool attn_output_gate = false;   // Qwen3.5 gated attention: q_proj also yields a gate
  bool tie_word_embeddings = false;
  std::optional<DType> dtype;      // torch_dtype / dtype
  std::int64_t sliding_window = 0; // 0: none

  RopeConfig rope;
  MoeConfig moe;
  LinearAttentionConfig linear;
  std::vector<LayerType> layer_types;  // one per layer

  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;
  std::optional<std::int64_t> pad_token_id;

  bool is_moe() const { return moe.num_experts > 0; }
  bool is_moe_layer(std::int64_t layer) const;
  std::int64_t rotary_dim() const;  // head_dim * partial_rotary_factor, even
  std::int64_t q_size() const { return num_attention_heads * head_dim; }
  std::int64_t kv_size() const { return num_kv_heads * head_dim; }
};

// Throws arle::Error naming `label` and the field: unknown architecture
// (listing the supported ones), missing or out-of-range values.
ModelConfig parse_model_config(const nlohmann::json& config, const std::string& label);
// Reads DIR/config.json.
ModelConfig load_model_config(const std::filesystem::path& model_dir);

}  // namespace arle::model
