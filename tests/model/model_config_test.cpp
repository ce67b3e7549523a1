#include "model/model_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "model/generation_config.h"
#include "safetensors_writer.h"

namespace arle::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path real_config(const std::string& name) { return fs::path(ARLE_TEST_FIXTURES) / "configs" / name; }

std::string error_of(const json& config) {
  try {
    parse_model_config(config, "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, Stories260KLlamaTransformers4Layout) {
  ModelConfig c = load_model_config(arle::testing::fixture_model("stories260K"));
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.num_layers, 5);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope.theta, 10000.0);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.dtype, DType::kF32);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(c.layer_types, std::vector<LayerType>(5, LayerType::kFullAttention));
}

TEST(ModelConfig, Qwen3TinyDecoupledHeadDimTransformers5Layout) {
  ModelConfig c = load_model_config(arle::testing::fixture_model("qwen3-tiny"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3);
  EXPECT_EQ(c.hidden_size, 48);
  EXPECT_EQ(c.head_dim, 32);  // != 48 / 4
  EXPECT_EQ(c.q_size(), 128);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.dtype, DType::kBF16);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{151645}));
}

TEST(ModelConfig, Qwen3MoeTinyUsesNumLocalExperts) {
  ModelConfig c = load_model_config(arle::testing::fixture_model("qwen3-moe-tiny"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3Moe);
  EXPECT_EQ(c.moe.num_experts, 8);
  EXPECT_EQ(c.moe.experts_per_token, 2);
  EXPECT_EQ(c.moe.expert_intermediate_size, 32);
  EXPECT_TRUE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
  EXPECT_EQ(c.head_dim, 16);  // hidden / heads
}

TEST(ModelConfig, ExpertCountIsBounded) {
  json moe = json::parse(std::ifstream(arle::testing::fixture_model("qwen3-moe-tiny") / "config.json"));
  moe["num_local_experts"] = 1 << 20;
  EXPECT_NE(error_of(moe).find("experts exceed ARLE's limit"), std::string::npos) << error_of(moe);
  moe["num_local_experts"] = 1;
  EXPECT_NE(error_of(moe).find("num_experts_per_tok (2) exceeds the number of experts (1)"), std::string::npos);
}

TEST(ModelConfig, Qwen35TinyHybridPartialRope) {
  ModelConfig c = load_model_config(arle::testing::fixture_model("qwen3.5-tiny"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3_5);
  EXPECT_EQ(c.layer_types, (std::vector<LayerType>{LayerType::kLinearAttention, LayerType::kLinearAttention,
                                                   LayerType::kLinearAttention, LayerType::kFullAttention}));
  EXPECT_DOUBLE_EQ(c.rope.partial_rotary_factor, 0.25);
  EXPECT_EQ(c.rotary_dim(), 8);
  EXPECT_TRUE(c.attn_output_gate);
  EXPECT_EQ(c.linear.num_key_heads, 2);
  EXPECT_EQ(c.linear.num_value_heads, 4);
  EXPECT_EQ(c.linear.key_head_dim, 16);
  EXPECT_EQ(c.linear.conv_kernel_dim, 4);
}

// Without the key, Qwen3.5 rotates a quarter of each head, as transformers'
// Qwen3_5TextConfig defaults it; other families rotate all of it.
TEST(ModelConfig, Qwen35PartialRotaryFactorDefaultsToAQuarter) {
  json config = json::parse(read_text_file(arle::testing::fixture_model("qwen3.5-tiny") / "config.json"));
  config.erase("partial_rotary_factor");
  config["rope_parameters"].erase("partial_rotary_factor");
  EXPECT_DOUBLE_EQ(parse_model_config(config, "test").rope.partial_rotary_factor, 0.25);
  json qwen3 = json::parse(read_text_file(arle::testing::fixture_model("qwen3-tiny") / "config.json"));
  EXPECT_DOUBLE_EQ(parse_model_config(qwen3, "test").rope.partial_rotary_factor, 1.0);
}

TEST(ModelConfig, Qwen35MoeTinySharedExpert) {
  ModelConfig c = load_model_config(arle::testing::fixture_model("qwen3.5-moe-tiny"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3_5Moe);
  EXPECT_EQ(c.moe.num_experts, 8);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 48);
  EXPECT_EQ(c.intermediate_size, 0);
  EXPECT_FALSE(c.tie_word_embeddings);
}

// Published configs of real models (tests/fixtures/configs, see SOURCES.md).
TEST(ModelConfig, RealQwen3HubConfigUsesTopLevelRopeTheta) {
  ModelConfig c = load_model_config(real_config("Qwen3-0.6B"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1000000.0);
  EXPECT_EQ(c.rope.type, "default");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_layers, 28);
  EXPECT_EQ(c.dtype, DType::kBF16);
  EXPECT_EQ(c.sliding_window, 0);
}

TEST(ModelConfig, RealQwen35MultimodalConfigReadsTextConfig) {
  ModelConfig c = load_model_config(real_config("Qwen3.5-0.8B"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3_5);
  EXPECT_TRUE(c.multimodal_checkpoint);
  EXPECT_EQ(c.model_type, "qwen3_5_text");
  EXPECT_EQ(c.hidden_size, 1024);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.num_layers, 24);
  EXPECT_DOUBLE_EQ(c.rope.theta, 10000000.0);
  EXPECT_DOUBLE_EQ(c.rope.partial_rotary_factor, 0.25);
  EXPECT_EQ(c.rotary_dim(), 64);
  EXPECT_EQ(c.rope.mrope_section, (std::vector<std::int64_t>{11, 11, 10}));
  EXPECT_TRUE(c.rope.mrope_interleaved);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{248044}));
  int full = 0;
  for (LayerType t : c.layer_types) full += t == LayerType::kFullAttention;
  EXPECT_EQ(full, 6);
}

TEST(ModelConfig, RealQwen35MoeConfig) {
  ModelConfig c = load_model_config(real_config("Qwen3.5-35B-A3B"));
  EXPECT_EQ(c.architecture, Architecture::kQwen3_5Moe);
  EXPECT_EQ(c.moe.num_experts, 256);
  EXPECT_EQ(c.moe.experts_per_token, 8);
  EXPECT_EQ(c.moe.shared_expert_intermediate_size, 512);
  EXPECT_EQ(c.linear.num_value_heads, 32);
  EXPECT_FALSE(c.tie_word_embeddings);
}

TEST(ModelConfig, RealQwen3MoeConfig) {
  ModelConfig c = load_model_config(real_config("Qwen3-30B-A3B"));
  EXPECT_EQ(c.moe.num_experts, 128);
  EXPECT_EQ(c.moe.experts_per_token, 8);
  EXPECT_EQ(c.moe.expert_intermediate_size, 768);
  EXPECT_EQ(c.num_kv_heads, 4);
}

TEST(ModelConfig, RealLlama32ConfigHasLlama3Rope) {
  ModelConfig c = load_model_config(real_config("Llama-3.2-1B"));
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.rope.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope.factor, 32.0);
  EXPECT_DOUBLE_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
}

TEST(ModelConfig, EveryRealConfigParses) {
  int parsed = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(ARLE_TEST_FIXTURES) / "configs")) {
    if (!fs::exists(entry.path() / "config.json")) continue;
    ModelConfig c = load_model_config(entry.path());
    EXPECT_EQ(static_cast<std::int64_t>(c.layer_types.size()), c.num_layers) << entry.path();
    ++parsed;
  }
  EXPECT_EQ(parsed, 16);
}

TEST(ModelConfig, Qwen2DefaultsToQkvBias) {
  json q2 = {{"architectures", {"Qwen2ForCausalLM"}},
             {"vocab_size", 100},
             {"hidden_size", 64},
             {"intermediate_size", 128},
             {"num_hidden_layers", 2},
             {"num_attention_heads", 4},
             {"num_key_value_heads", 2},
             {"rope_theta", 1000000.0},
             {"use_sliding_window", false},
             {"sliding_window", 4096}};
  ModelConfig c = parse_model_config(q2, "q2");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.sliding_window, 0);
}

TEST(ModelConfig, LayerTypesDerivedFromFullAttentionInterval) {
  json cfg = json::parse(std::ifstream(arle::testing::fixture_model("qwen3.5-tiny") / "config.json"));
  cfg.erase("layer_types");
  cfg["num_hidden_layers"] = 8;
  cfg["full_attention_interval"] = 2;
  ModelConfig c = parse_model_config(cfg, "x");
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(c.layer_types[i], i % 2 ? LayerType::kFullAttention : LayerType::kLinearAttention) << i;
  }
}

TEST(ModelConfig, BadConfigsGiveClearErrors) {
  json base = json::parse(std::ifstream(arle::testing::fixture_model("qwen3-small-vocab") / "config.json"));
  auto with = [&](const char* key, json value) {
    json c = base;
    if (value.is_discarded()) {
      c.erase(key);
    } else {
      c[key] = value;
    }
    return error_of(c);
  };
  std::string unknown = with("architectures", {"MambaForCausalLM"});
  EXPECT_NE(unknown.find("architecture 'MambaForCausalLM' is not supported"), std::string::npos) << unknown;
  for (const auto& name : supported_architecture_names()) EXPECT_NE(unknown.find(name), std::string::npos) << name;
  EXPECT_NE(with("architectures", json::array()).find("non-empty list"), std::string::npos);
  EXPECT_NE(with("hidden_size", json::value_t::discarded).find("\"hidden_size\" is missing"), std::string::npos);
  EXPECT_NE(with("hidden_size", "96").find("\"hidden_size\" must be an integer"), std::string::npos);
  EXPECT_NE(with("hidden_size", -96).find("out of range"), std::string::npos);
  EXPECT_EQ(with("hidden_size", 96.0), "");  // integral floats are accepted
  EXPECT_NE(with("hidden_size", 96.5).find("must be an integer"), std::string::npos);
  EXPECT_NE(with("hidden_size", 3.2e24).find("must be an integer"), std::string::npos);  // found by the fuzzer
  EXPECT_NE(with("hidden_size", std::numeric_limits<std::uint64_t>::max()).find("out of range"), std::string::npos);
  EXPECT_NE(with("hidden_size", 1ll << 40).find("out of range"), std::string::npos);
  EXPECT_NE(with("num_key_value_heads", 4).find("not a multiple"), std::string::npos);
  EXPECT_NE(with("num_hidden_layers", 1 << 30).find("exceeds ARLE's limit"), std::string::npos);
  EXPECT_NE(with("layer_types", {"full_attention"}).find("has 1 entries but num_hidden_layers is 3"),
            std::string::npos);
  EXPECT_NE(with("layer_types", {"full_attention", "x", "full_attention"}).find("unknown layer type"),
            std::string::npos);
  EXPECT_NE(with("layer_types", {"full_attention", "linear_attention", "full_attention"})
                .find("linear_attention layers need a Qwen3.5"),
            std::string::npos);
  EXPECT_NE(with("rms_norm_eps", 0).find("rms_norm_eps"), std::string::npos);
  EXPECT_NE(with("hidden_act", "gelu").find("hidden_act 'gelu' is not supported"), std::string::npos);
  EXPECT_NE(with("rope_parameters", {{"rope_type", "weird"}}).find("rope type 'weird'"), std::string::npos);
  EXPECT_NE(with("rope_parameters", {{"rope_theta", -1}}).find("rope_theta"), std::string::npos);
  EXPECT_NE(with("tie_word_embeddings", "yes").find("must be true or false"), std::string::npos);
  // A hostile, deeply nested value must not blow the stack when reported.
  json hostile = base;
  json* slot = &hostile["vocab_size"];
  for (int i = 0; i < 20000; ++i) {
    *slot = json::array();
    slot->push_back(nullptr);
    slot = &(*slot)[0];
  }
  EXPECT_NE(error_of(hostile).find("a list of 1 items"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(json{{"architectures", {"Qwen3_5ForConditionalGeneration"}}}).find("text_config"),
            std::string::npos);
}

TEST(ModelConfig, MissingOrBrokenFileNamesThePath) {
  auto dir = arle::testing::fresh_dir("bad_config");
  try {
    load_model_config(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos);
  }
  std::ofstream(dir / "config.json") << "{\"architectures\": [";
  try {
    load_model_config(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidModel);
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
}

TEST(GenerationConfig, EosAsIntOrList) {
  GenerationConfig g = load_generation_config(real_config("Qwen3-0.6B"));
  EXPECT_TRUE(g.present);
  EXPECT_EQ(g.eos_token_ids, (std::vector<std::int64_t>{151645, 151643}));
  EXPECT_EQ(g.top_k, 20);
  EXPECT_DOUBLE_EQ(*g.temperature, 0.6);
  GenerationConfig s = load_generation_config(arle::testing::fixture_model("stories260K"));
  EXPECT_EQ(s.eos_token_ids, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(s.do_sample, false);
  EXPECT_FALSE(load_generation_config(arle::testing::fresh_dir("no_gen")).present);
  EXPECT_THROW(parse_generation_config(json{{"eos_token_id", "x"}}, "g"), Error);
  EXPECT_THROW(parse_generation_config(json{{"eos_token_id", {1, "2"}}}, "g"), Error);
  EXPECT_THROW(parse_generation_config(json{{"temperature", "hot"}}, "g"), Error);
}

}  // namespace
}  // namespace arle::model
