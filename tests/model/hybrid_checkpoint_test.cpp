// Qwen3.5's released checkpoints are multimodal (Qwen3_5ForConditionalGeneration):
// the text config under text_config, the text tensors under
// model.language_model., plus vision and multi-token-prediction tensors the
// text model ignores. Loading that layout must give the text model's logits.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/json_file.h"
#include "model/causal_lm.h"
#include "model_reference.h"
#include "safetensors_writer.h"

namespace arle::testing {
namespace {

TEST(HybridCheckpoint, MultimodalLayoutGivesTheTextModelsLogits) {
  const std::filesystem::path text_dir = fixture_model("qwen3.5-tiny");
  const std::filesystem::path dir = fresh_dir("qwen35_multimodal");
  std::vector<TensorBytes> tensors = read_all_tensors(text_dir / "model.safetensors");
  for (TensorBytes& t : tensors) {
    if (t.name.rfind("model.", 0) == 0) t.name = "model.language_model." + t.name.substr(6);
  }
  tensors.push_back({"model.visual.patch_embed.proj.weight", DType::kF32, {2, 3}, std::vector<std::uint8_t>(24, 0)});
  tensors.push_back({"mtp.fc.weight", DType::kF32, {2, 2}, std::vector<std::uint8_t>(16, 0)});
  write_safetensors(dir / "model.safetensors", tensors);
  nlohmann::json text = nlohmann::json::parse(read_text_file(text_dir / "config.json"));
  text.erase("architectures");
  const nlohmann::json config = {{"architectures", {"Qwen3_5ForConditionalGeneration"}},
                                 {"model_type", "qwen3_5"},
                                 {"tie_word_embeddings", text["tie_word_embeddings"]},
                                 {"text_config", text}};
  std::ofstream(dir / "config.json") << config.dump(2);

  auto plain = model::load_causal_lm(text_dir);
  auto multimodal = model::load_causal_lm(dir);
  EXPECT_TRUE(multimodal->config().multimodal_checkpoint);
  const std::vector<std::int32_t> prompt{1, 403, 407, 261, 378, 17, 99, 250};
  const Tensor a = prompt_logits(*plain, prompt), b = prompt_logits(*multimodal, prompt);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0);
}

}  // namespace
}  // namespace arle::testing
