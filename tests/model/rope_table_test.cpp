// Rotary frequencies for each rope type against the formulas written out
// independently here (yarn, llama3 and linear are also checked end to end
// against transformers by the llama-*-tiny fixtures).
#include "model/rope_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/model_config.h"

namespace arle::model {
namespace {

ModelConfig llama_with_rope(const nlohmann::json& rope_scaling) {
  nlohmann::json c = {{"architectures", {"LlamaForCausalLM"}},
                      {"model_type", "llama"},
                      {"vocab_size", 32},
                      {"hidden_size", 64},
                      {"intermediate_size", 128},
                      {"num_hidden_layers", 1},
                      {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},
                      {"max_position_embeddings", 4096},
                      {"rope_theta", 500000.0}};
  if (!rope_scaling.is_null()) c["rope_scaling"] = rope_scaling;
  return parse_model_config(c, "test");
}

TEST(RopeTable, DefaultAndLinear) {
  RopeTable plain(llama_with_rope(nullptr));
  ASSERT_EQ(plain.rotary_dim(), 16);
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(plain.inv_freq()[i], std::pow(500000.0, -2.0 * i / 16));
  RopeTable linear(llama_with_rope({{"rope_type", "linear"}, {"factor", 4.0}}));
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(linear.inv_freq()[i], plain.inv_freq()[i] / 4);
  EXPECT_EQ(linear.attention_factor(), 1.0);
}

TEST(RopeTable, DynamicUsesTheBaseForTheScaledContext) {
  // vLLM: base * ((f * max_len / max_pos) - (f - 1)) ^ (d / (d - 2)), max_len = f * max_pos.
  RopeTable dynamic(llama_with_rope({{"rope_type", "dynamic"}, {"factor", 2.0}}));
  const double base = 500000.0 * std::pow(2.0 * 2.0 - 1.0, 16.0 / 14.0);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(dynamic.inv_freq()[i] / std::pow(base, -2.0 * i / 16), 1.0, 1e-12);
}

TEST(RopeTable, YarnAttentionFactorAndRamp) {
  RopeTable yarn(llama_with_rope({{"rope_type", "yarn"}, {"factor", 8.0}, {"original_max_position_embeddings", 512}}));
  EXPECT_NEAR(yarn.attention_factor(), 0.1 * std::log(8.0) + 1.0, 1e-12);
  RopeTable plain(llama_with_rope(nullptr));
  // Highest frequencies extrapolate (unchanged), lowest interpolate (/ factor).
  EXPECT_DOUBLE_EQ(yarn.inv_freq()[0], plain.inv_freq()[0]);
  EXPECT_NEAR(yarn.inv_freq()[7], plain.inv_freq()[7] / 8, 1e-18);
  RopeTable given(llama_with_rope(
      {{"rope_type", "yarn"}, {"factor", 8.0}, {"original_max_position_embeddings", 512}, {"attention_factor", 1.5}}));
  EXPECT_EQ(given.attention_factor(), 1.5);
}

TEST(RopeTable, Llama3BandsByWavelength) {
  RopeTable llama3(llama_with_rope({{"rope_type", "llama3"},
                                    {"factor", 8.0},
                                    {"low_freq_factor", 1.0},
                                    {"high_freq_factor", 4.0},
                                    {"original_max_position_embeddings", 8192}}));
  RopeTable plain(llama_with_rope(nullptr));
  for (int i = 0; i < 8; ++i) {
    const double f = plain.inv_freq()[i], wavelen = 2 * M_PI / f;
    double want = f;
    if (wavelen > 8192.0) {
      want = f / 8;
    } else if (wavelen >= 8192.0 / 4) {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      want = (1 - smooth) * f / 8 + smooth * f;
    }
    EXPECT_NEAR(llama3.inv_freq()[i], want, 1e-15) << i;
  }
}

TEST(RopeTable, FillGivesScaledCosSinPerPosition) {
  RopeTable yarn(llama_with_rope({{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 1024}}));
  Tensor cos, sin;
  yarn.fill({0, 7, 4000}, cos, sin);
  ASSERT_EQ(cos.shape(), (Shape{3, 8}));
  for (int r = 0; r < 3; ++r) {
    const double p = r == 0 ? 0 : r == 1 ? 7 : 4000;
    for (int i = 0; i < 8; ++i) {
      EXPECT_NEAR(cos.data<float>()[r * 8 + i], std::cos(p * yarn.inv_freq()[i]) * yarn.attention_factor(), 1e-6);
      EXPECT_NEAR(sin.data<float>()[r * 8 + i], std::sin(p * yarn.inv_freq()[i]) * yarn.attention_factor(), 1e-6);
    }
  }
}

TEST(RopeTable, UnimplementedOrBrokenScalingIsAnError) {
  EXPECT_THROW(RopeTable(llama_with_rope({{"rope_type", "longrope"}, {"factor", 2.0}})), Error);
  EXPECT_THROW(RopeTable(llama_with_rope({{"rope_type", "linear"}, {"factor", 0.0}})), Error);
  EXPECT_THROW(RopeTable(llama_with_rope({{"rope_type", "llama3"},
                                          {"factor", 8.0},
                                          {"low_freq_factor", 4.0},
                                          {"high_freq_factor", 1.0},
                                          {"original_max_position_embeddings", 8192}})),
               Error);
}

// Released Qwen3.5 configs carry interleaved multimodal RoPE (mrope_section
// [11, 11, 10]): frequency i takes its position from the T, H or W row. For
// text all three rows are the token position, so the result is ordinary
// partial RoPE over the first 64 of 256 dims, which RopeTable computes.
TEST(RopeTable, Qwen35MultimodalRopeOnTextIsPartialRope) {
  const ModelConfig c = load_model_config(std::filesystem::path(ARLE_TEST_FIXTURES) / "configs" / "Qwen3.5-0.8B");
  ASSERT_EQ(c.rope.mrope_section, (std::vector<std::int64_t>{11, 11, 10}));
  RopeTable table(c);
  ASSERT_EQ(table.rotary_dim(), 64);
  const std::vector<std::int64_t> positions{0, 1, 7, 300, 1000};
  Tensor cos, sin;
  table.fill(positions, cos, sin);
  for (std::size_t r = 0; r < positions.size(); ++r) {
    const double t = static_cast<double>(positions[r]), h = t, w = t;  // text: all rows equal
    for (std::int64_t i = 0; i < 32; ++i) {
      const double inv_freq = std::pow(c.rope.theta, -2.0 * static_cast<double>(i) / 64);
      double pos = t;
      if (i % 3 == 1 && i < 3 * c.rope.mrope_section[1]) pos = h;
      if (i % 3 == 2 && i < 3 * c.rope.mrope_section[2]) pos = w;
      const double angle = static_cast<double>(static_cast<float>(pos * inv_freq));
      EXPECT_NEAR(cos.data<float>()[r * 32 + i], std::cos(angle), 1e-4) << "position " << t << " frequency " << i;
      EXPECT_NEAR(sin.data<float>()[r * 32 + i], std::sin(angle), 1e-4) << "position " << t << " frequency " << i;
    }
  }
}

}  // namespace
}  // namespace arle::model
