#include "model/safetensors.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "safetensors_writer.h"

namespace arle::model {
namespace {

using arle::testing::fixture_model;

// Values read from the fixture with Python's struct module.
TEST(Safetensors, ReadsRealF32FixtureZeroCopy) {
  auto file = SafetensorsFile::open(fixture_model("stories260K") / "model.safetensors");
  EXPECT_EQ(file->tensors().size(), 47u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const TensorInfo* embed = file->find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::kF32);
  EXPECT_EQ(embed->shape, (Shape{512, 64}));
  Tensor t = file->tensor(*embed);
  EXPECT_FALSE(t.storage()->owns_memory());  // a view into the mapping
  const float* v = t.data<float>();
  EXPECT_FLOAT_EQ(v[0], -0.29474878311157227f);
  EXPECT_FLOAT_EQ(v[1], 0.5618956089019775f);
  EXPECT_FLOAT_EQ(v[3], 0.34057360887527466f);
  Tensor norm = file->tensor(*file->find("model.norm.weight"));
  EXPECT_FLOAT_EQ(norm.data<float>()[0], 2.4583089351654053f);
  EXPECT_EQ(file->find("no.such.tensor"), nullptr);
}

TEST(Safetensors, ReadsRealBf16Fixture) {
  auto file = SafetensorsFile::open(fixture_model("qwen3-tiny") / "model.safetensors");
  Tensor q_norm = file->tensor(*file->find("model.layers.1.self_attn.q_norm.weight"));
  EXPECT_EQ(q_norm.dtype(), DType::kBF16);
  EXPECT_EQ(q_norm.data<std::uint16_t>()[0], 16274);
  Tensor f = q_norm.to_f32();
  EXPECT_EQ(f.data<float>()[0], 1.140625f);
  EXPECT_EQ(f.data<float>()[3], 0.8359375f);
  Tensor embed = file->tensor(*file->find("model.embed_tokens.weight"));
  EXPECT_EQ(embed.shape(), (Shape{151936, 48}));
  EXPECT_EQ(embed.narrow_rows(0, 1).to_f32().data<float>()[0], -0.51171875f);
}

TEST(Safetensors, ViewsOutliveTheFileObject) {
  Tensor t;
  {
    auto file = SafetensorsFile::open(fixture_model("stories260K") / "model.safetensors");
    t = file->tensor(*file->find("model.norm.weight"));
  }
  EXPECT_FLOAT_EQ(t.data<float>()[1], 1.3673226833343506f);
}

TEST(Safetensors, WriterOutputRoundTrips) {
  auto dir = arle::testing::fresh_dir("st_roundtrip");
  std::vector<arle::testing::TensorBytes> tensors = {
      {"a", DType::kI32, {2}, {1, 0, 0, 0, 2, 0, 0, 0}},
      {"b", DType::kU8, {3}, {7, 8, 9}},
      {"empty", DType::kF32, {0}, {}},
  };
  arle::testing::write_safetensors(dir / "x.safetensors", tensors, {{"k", "v"}});
  auto back = arle::testing::read_all_tensors(dir / "x.safetensors");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].name, "a");
  EXPECT_EQ(back[0].bytes, tensors[0].bytes);
  EXPECT_EQ(back[1].bytes, tensors[1].bytes);
}

TEST(Safetensors, MissingFileIsNotFound) {
  try {
    SafetensorsFile::open("/nonexistent/model.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
  }
}

TEST(Safetensors, DirectoryIsRejected) {
  EXPECT_THROW(SafetensorsFile::open(fixture_model("stories260K")), Error);
}

}  // namespace
}  // namespace arle::model
