#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "safetensors_writer.h"

namespace arle::model {
namespace {

namespace fs = std::filesystem;
using arle::testing::fixture_model;
using arle::testing::fresh_dir;
using arle::testing::read_all_tensors;
using arle::testing::TensorBytes;
using arle::testing::write_safetensors;

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// Splits the real stories260K weights into `shards` files plus an index, the
// way save_pretrained(max_shard_size=...) lays them out.
fs::path make_sharded_copy(const std::string& name, int shards) {
  fs::path dir = fresh_dir(name);
  auto tensors = read_all_tensors(fixture_model("stories260K") / "model.safetensors");
  nlohmann::json weight_map = nlohmann::json::object();
  for (int s = 0; s < shards; ++s) {
    std::vector<TensorBytes> part;
    std::string file = fmt::format("model-{:05d}-of-{:05d}.safetensors", s + 1, shards);
    for (std::size_t i = static_cast<std::size_t>(s); i < tensors.size(); i += static_cast<std::size_t>(shards)) {
      part.push_back(tensors[i]);
      weight_map[tensors[i].name] = file;
    }
    write_safetensors(dir / file, part);
  }
  write_text(dir / "model.safetensors.index.json",
             nlohmann::json{{"metadata", {{"total_size", 1040128}}}, {"weight_map", weight_map}}.dump(2));
  fs::copy_file(fixture_model("stories260K") / "config.json", dir / "config.json");
  return dir;
}

std::string error_of(const fs::path& path) {
  try {
    Checkpoint::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, SingleFileFolder) {
  Checkpoint c = Checkpoint::open(fixture_model("stories260K"));
  EXPECT_EQ(c.shards().size(), 1u);
  EXPECT_EQ(c.tensors().size(), 47u);
  EXPECT_EQ(c.parameter_count(), 260032);
  EXPECT_EQ(c.byte_count(), 1040128u);
  EXPECT_THROW(c.tensor("lm_head.weight"), Error);
}

TEST(Checkpoint, ShardedEqualsSingleFileTensorForTensor) {
  fs::path dir = make_sharded_copy("sharded3", 3);
  Checkpoint sharded = Checkpoint::open(dir);
  Checkpoint single = Checkpoint::open(fixture_model("stories260K"));
  EXPECT_EQ(sharded.shards().size(), 3u);
  EXPECT_EQ(sharded.parameter_count(), single.parameter_count());
  EXPECT_EQ(sharded.byte_count(), single.byte_count());
  ASSERT_EQ(sharded.tensors().size(), single.tensors().size());
  for (const TensorInfo* info : single.tensors()) {
    Tensor a = single.tensor(info->name);
    Tensor b = sharded.tensor(info->name);
    ASSERT_EQ(a.shape(), b.shape()) << info->name;
    ASSERT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0) << info->name;
  }
}

TEST(Checkpoint, SingleSafetensorsFilePath) {
  Checkpoint c = Checkpoint::open(fixture_model("qwen3-small-vocab") / "model.safetensors");
  EXPECT_EQ(c.parameter_count(), 311040);
}

TEST(Checkpoint, MissingShardIsNamed) {
  fs::path dir = make_sharded_copy("missing_shard", 2);
  fs::remove(dir / "model-00002-of-00002.safetensors");
  std::string msg = error_of(dir);
  EXPECT_NE(msg.find("model-00002-of-00002.safetensors, which is missing"), std::string::npos) << msg;
}

TEST(Checkpoint, IndexNamingAnAbsentTensorIsRejected) {
  fs::path dir = make_sharded_copy("absent_tensor", 2);
  auto index = nlohmann::json::parse(std::ifstream(dir / "model.safetensors.index.json"));
  index["weight_map"]["model.ghost.weight"] = "model-00001-of-00002.safetensors";
  write_text(dir / "model.safetensors.index.json", index.dump());
  std::string msg = error_of(dir);
  EXPECT_NE(msg.find("'model.ghost.weight'"), std::string::npos) << msg;
}

TEST(Checkpoint, ShardPathsCannotEscapeTheFolder) {
  fs::path dir = make_sharded_copy("escape", 2);
  auto index = nlohmann::json::parse(std::ifstream(dir / "model.safetensors.index.json"));
  index["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
  write_text(dir / "model.safetensors.index.json", index.dump());
  EXPECT_NE(error_of(dir).find("is not a file name in the model folder"), std::string::npos) << error_of(dir);
}

TEST(Checkpoint, MalformedIndexIsRejected) {
  fs::path dir = make_sharded_copy("bad_index", 2);
  write_text(dir / "model.safetensors.index.json", "{\"weight_map\": [1, 2]}");
  EXPECT_NE(error_of(dir).find("no \"weight_map\" object"), std::string::npos) << error_of(dir);
  write_text(dir / "model.safetensors.index.json", "{not json");
  EXPECT_NE(error_of(dir).find("not valid JSON"), std::string::npos) << error_of(dir);
  write_text(dir / "model.safetensors.index.json", "{\"weight_map\": {\"a\": 3}}");
  EXPECT_NE(error_of(dir).find("is not a file name"), std::string::npos) << error_of(dir);
}

TEST(Checkpoint, TensorInTwoShardsIsRejected) {
  fs::path dir = fresh_dir("dup_across_shards");
  std::vector<TensorBytes> t = {{"w", DType::kU8, {2}, {1, 2}}};
  write_safetensors(dir / "a.safetensors", t);
  write_safetensors(dir / "b.safetensors", t);
  // An index that lists only one owner but the other shard still carries a copy is fine ...
  write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"w": "a.safetensors", "x": "b.safetensors"}})");
  std::vector<TensorBytes> with_x = {{"w", DType::kU8, {2}, {1, 2}}, {"x", DType::kU8, {1}, {3}}};
  write_safetensors(dir / "b.safetensors", with_x);
  Checkpoint ok = Checkpoint::open(dir);
  EXPECT_EQ(ok.tensors().size(), 2u);
  // ... but a tensor the index does not place, present in two shards, is ambiguous.
  write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"x": "b.safetensors", "y": "a.safetensors"}})");
  std::vector<TensorBytes> with_y = {{"w", DType::kU8, {2}, {1, 2}}, {"y", DType::kU8, {1}, {4}}};
  write_safetensors(dir / "a.safetensors", with_y);
  EXPECT_NE(error_of(dir).find("tensor 'w' is in both"), std::string::npos) << error_of(dir);
}

TEST(Checkpoint, FolderWithoutWeights) {
  fs::path dir = fresh_dir("no_weights");
  std::string msg = error_of(dir);
  EXPECT_NE(msg.find("has neither model.safetensors nor model.safetensors.index.json"), std::string::npos) << msg;
  EXPECT_NE(error_of(dir / "nope").find("does not exist"), std::string::npos);
}

TEST(Checkpoint, BrokenShardNamesTheShard) {
  fs::path dir = make_sharded_copy("broken_shard", 2);
  fs::resize_file(dir / "model-00001-of-00002.safetensors", 100);
  std::string msg = error_of(dir);
  EXPECT_NE(msg.find("model-00001-of-00002.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed safetensors"), std::string::npos) << msg;
}

}  // namespace
}  // namespace arle::model
