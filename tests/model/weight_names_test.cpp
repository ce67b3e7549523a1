#include "model/weight_names.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "safetensors_writer.h"

namespace arle::model {
namespace {

namespace fs = std::filesystem;
using arle::testing::fixture_model;
using arle::testing::fresh_dir;
using arle::testing::read_all_tensors;
using arle::testing::TensorBytes;
using arle::testing::write_safetensors;

WeightReport check_fixture(const fs::path& dir) {
  return check_weights(load_model_config(dir), Checkpoint::open(dir));
}

TEST(WeightNames, EveryFixtureIsCompleteWithNothingUnexpected) {
  for (const char* name : {"stories260K", "qwen3-tiny", "qwen3-small-vocab", "qwen3-moe-tiny", "qwen3.5-tiny",
                           "qwen3.5-moe-tiny"}) {
    WeightReport r = check_fixture(fixture_model(name));
    EXPECT_TRUE(r.complete()) << name << ": " << (r.missing.empty() ? "" : r.missing[0]);
    EXPECT_TRUE(r.unexpected.empty()) << name << ": " << r.unexpected[0];
    EXPECT_TRUE(r.ignored.empty()) << name;
  }
}

TEST(WeightNames, ExpectedCountsMatchFixtures) {
  // Tensor counts as listed by Python for each fixture file.
  EXPECT_EQ(expected_tensors(load_model_config(fixture_model("stories260K"))).size(), 48u);  // + optional lm_head
  EXPECT_EQ(expected_tensors(load_model_config(fixture_model("qwen3-moe-tiny"))).size(), 69u);
  EXPECT_EQ(expected_tensors(load_model_config(fixture_model("qwen3.5-moe-tiny"))).size(), 160u);
}

TEST(WeightNames, MapsMultimodalPrefixesAndIgnoresOtherTowers) {
  EXPECT_EQ(map_checkpoint_name("model.language_model.layers.0.mlp.up_proj.weight").canonical,
            "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(map_checkpoint_name("language_model.model.norm.weight").canonical, "model.norm.weight");
  EXPECT_EQ(map_checkpoint_name("language_model.lm_head.weight").canonical, "lm_head.weight");
  EXPECT_EQ(map_checkpoint_name("lm_head.weight").canonical, "lm_head.weight");
  EXPECT_EQ(map_checkpoint_name("model.visual.blocks.0.attn.qkv.weight").ignored_group, "vision");
  EXPECT_EQ(map_checkpoint_name("mtp.fc.weight").ignored_group, "mtp");
  EXPECT_EQ(map_checkpoint_name("model.layers.0.self_attn.rotary_emb.inv_freq").ignored_group, "rotary_buffers");
}

// Re-lays the real qwen3.5-tiny weights out as a Qwen3_5ForConditionalGeneration
// checkpoint: text tensors under model.language_model., plus vision and MTP tensors.
fs::path make_multimodal_copy(const std::string& name) {
  fs::path dir = fresh_dir(name);
  auto tensors = read_all_tensors(fixture_model("qwen3.5-tiny") / "model.safetensors");
  for (auto& t : tensors) {
    if (t.name.rfind("model.", 0) == 0) t.name = "model.language_model." + t.name.substr(6);
  }
  tensors.push_back({"model.visual.patch_embed.proj.weight", DType::kBF16, {4, 2}, std::vector<std::uint8_t>(16)});
  tensors.push_back({"model.visual.blocks.0.norm1.weight", DType::kBF16, {4}, std::vector<std::uint8_t>(8)});
  tensors.push_back({"mtp.fc.weight", DType::kBF16, {2}, std::vector<std::uint8_t>(4)});
  write_safetensors(dir / "model.safetensors", tensors);
  auto text = nlohmann::json::parse(std::ifstream(fixture_model("qwen3.5-tiny") / "config.json"));
  nlohmann::json config = {{"architectures", {"Qwen3_5ForConditionalGeneration"}},
                           {"model_type", "qwen3_5"},
                           {"text_config", text},
                           {"tie_word_embeddings", true},
                           {"vision_config", {{"depth", 1}}}};
  config["text_config"].erase("architectures");
  std::ofstream(dir / "config.json") << config.dump(2);
  return dir;
}

TEST(WeightNames, MultimodalQwen35CheckpointIsComplete) {
  fs::path dir = make_multimodal_copy("mm_complete");
  WeightReport r = check_fixture(dir);
  EXPECT_TRUE(r.complete()) << (r.missing.empty() ? "" : r.missing[0]);
  EXPECT_TRUE(r.unexpected.empty());
  EXPECT_EQ(r.ignored["vision"], 2);
  EXPECT_EQ(r.ignored["mtp"], 1);
  EXPECT_EQ(r.canonical_to_checkpoint["model.norm.weight"], "model.language_model.norm.weight");
}

TEST(WeightNames, ReportsMissingUnexpectedAndMisshapenTensors) {
  fs::path dir = fresh_dir("damaged");
  auto tensors = read_all_tensors(fixture_model("qwen3-small-vocab") / "model.safetensors");
  std::vector<TensorBytes> kept;
  for (auto& t : tensors) {
    if (t.name == "model.layers.1.mlp.up_proj.weight") continue;  // drop one
    if (t.name == "model.layers.2.self_attn.k_norm.weight") t.shape = {4, 4};  // same bytes, wrong shape
    kept.push_back(t);
  }
  kept.push_back({"model.layers.0.self_attn.extra.weight", DType::kF32, {1}, std::vector<std::uint8_t>(4)});
  write_safetensors(dir / "model.safetensors", kept);
  fs::copy_file(fixture_model("qwen3-small-vocab") / "config.json", dir / "config.json");
  WeightReport r = check_fixture(dir);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.missing, (std::vector<std::string>{"model.layers.1.mlp.up_proj.weight"}));
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"model.layers.0.self_attn.extra.weight"}));
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_EQ(r.mismatched[0].name, "model.layers.2.self_attn.k_norm.weight");
  EXPECT_EQ(r.mismatched[0].expected, (Shape{16}));
  EXPECT_EQ(r.mismatched[0].actual, (Shape{4, 4}));
}

TEST(WeightNames, UntiedModelNeedsLmHead) {
  fs::path dir = fresh_dir("no_head");
  auto tensors = read_all_tensors(fixture_model("qwen3-small-vocab") / "model.safetensors");
  std::erase_if(tensors, [](const TensorBytes& t) { return t.name == "lm_head.weight"; });
  write_safetensors(dir / "model.safetensors", tensors);
  fs::copy_file(fixture_model("qwen3-small-vocab") / "config.json", dir / "config.json");
  EXPECT_EQ(check_fixture(dir).missing, (std::vector<std::string>{"lm_head.weight"}));
}

// Stacked experts (experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I])
// are accepted per layer in place of one tensor per expert.
TEST(WeightNames, FusedExpertLayoutIsAccepted) {
  fs::path dir = fresh_dir("fused_experts");
  ModelConfig config = load_model_config(fixture_model("qwen3-moe-tiny"));
  auto tensors = read_all_tensors(fixture_model("qwen3-moe-tiny") / "model.safetensors");
  std::vector<TensorBytes> out;
  for (auto& t : tensors) {
    if (t.name.find("model.layers.0.mlp.experts.") != 0) out.push_back(t);
  }
  const std::int64_t e = config.moe.num_experts, inter = config.moe.expert_intermediate_size, h = config.hidden_size;
  out.push_back({"model.layers.0.mlp.experts.gate_up_proj", DType::kBF16, {e, 2 * inter, h},
                 std::vector<std::uint8_t>(static_cast<std::size_t>(e * 2 * inter * h * 2))});
  out.push_back({"model.layers.0.mlp.experts.down_proj", DType::kBF16, {e, h, inter},
                 std::vector<std::uint8_t>(static_cast<std::size_t>(e * h * inter * 2))});
  write_safetensors(dir / "model.safetensors", out);
  fs::copy_file(fixture_model("qwen3-moe-tiny") / "config.json", dir / "config.json");
  WeightReport r = check_fixture(dir);
  EXPECT_TRUE(r.complete()) << (r.missing.empty() ? "" : r.missing[0]);
  EXPECT_TRUE(r.unexpected.empty());
}

}  // namespace
}  // namespace arle::model
