// `arle inspect` on every fixture: the parameter counts and byte sizes below
// were computed independently with Python from each model.safetensors header
// (sum of prod(shape) and of data_offsets spans).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace arle::testing {
namespace {

using nlohmann::json;

struct Expected {
  const char* model;
  const char* architecture;
  std::int64_t tensors;
  std::int64_t parameters;
  std::int64_t bytes;
};

void PrintTo(const Expected& e, std::ostream* os) { *os << e.model; }

class InspectFixture : public ::testing::TestWithParam<Expected> {};

TEST_P(InspectFixture, ReportsParameterCountsFromTheTensors) {
  const Expected& e = GetParam();
  CommandResult r = run_arle("inspect --json --model-path '" + fixtures_dir() + "/models/" + e.model + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["architecture"], e.architecture);
  EXPECT_EQ(report["checkpoint"]["tensor_count"], e.tensors);
  EXPECT_EQ(report["checkpoint"]["parameters"], e.parameters);
  EXPECT_EQ(report["checkpoint"]["bytes"], e.bytes);
  EXPECT_EQ(report["weights"]["complete"], true);
  EXPECT_TRUE(report["weights"]["missing"].empty());
  EXPECT_TRUE(report["weights"]["unexpected"].empty());
  std::int64_t by_dtype = 0;
  for (const auto& [_, d] : report["checkpoint"]["dtypes"].items()) by_dtype += d["parameters"].get<std::int64_t>();
  EXPECT_EQ(by_dtype, e.parameters);

  CommandResult text = run_arle("inspect --model-path '" + fixtures_dir() + "/models/" + e.model + "'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("parameters                " + std::to_string(e.parameters)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("weights                   complete"), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, InspectFixture,
    ::testing::Values(Expected{"stories260K", "LlamaForCausalLM", 47, 260032, 1040128},
                      Expected{"qwen3-tiny", "Qwen3ForCausalLM", 24, 7357808, 14715616},
                      Expected{"qwen3-small-vocab", "Qwen3ForCausalLM", 36, 311040, 1244160},
                      Expected{"qwen3-moe-tiny", "Qwen3MoeForCausalLM", 69, 189824, 379648},
                      Expected{"qwen3.5-tiny", "Qwen3_5ForCausalLM", 55, 216776, 433552},
                      Expected{"qwen3.5-moe-tiny", "Qwen3_5MoeForCausalLM", 160, 387016, 774032}),
    [](const auto& info) {
      std::string n = info.param.model;
      for (char& c : n) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(Inspect, DefaultsToTheBundledModel) {
  CommandResult r = run_arle("inspect --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_NE(report["path"].get<std::string>().find("assets/models/stories260K"), std::string::npos);
  EXPECT_EQ(report["checkpoint"]["parameters"], 260032);
}

TEST(Inspect, ConfigOnlyFolderShowsTheConfig) {
  CommandResult r = run_arle("inspect --json --model-path '" + fixtures_dir() + "/configs/Qwen3.5-9B'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["architecture"], "Qwen3_5ForConditionalGeneration");
  EXPECT_EQ(report["multimodal_checkpoint"], true);
  EXPECT_TRUE(report["checkpoint"].is_null());
  EXPECT_EQ(report["config"]["layer_types"].size(), report["config"]["num_hidden_layers"].get<std::size_t>());
  EXPECT_EQ(report["config"]["rope"]["rotary_dim"], 64);
}

TEST(Inspect, MissingModelIsAOneLineError) {
  CommandResult r = run_arle("inspect --model-path /nonexistent/model");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err, "arle: error: model path '/nonexistent/model' (from --model-path) does not exist\n");
}

TEST(Inspect, CorruptWeightsAreAOneLineError) {
  std::string dir = ::testing::TempDir() + "/arle_corrupt_model";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixtures_dir() + "/models/stories260K/config.json", dir + "/config.json");
  std::filesystem::copy_file(fixtures_dir() + "/safetensors_corpus/overlap.safetensors", dir + "/model.safetensors");
  CommandResult r = run_arle("inspect --model-path '" + dir + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("arle: error: "), std::string::npos);
  EXPECT_NE(r.err.find("model.safetensors: malformed safetensors file: tensors 'a' and 'b' overlap"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(Inspect, UnknownArchitectureListsSupportedOnes) {
  std::string dir = ::testing::TempDir() + "/arle_unknown_arch";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << R"({"architectures": ["GPT2LMHeadModel"]})";
  CommandResult r = run_arle("inspect --model-path '" + dir + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("architecture 'GPT2LMHeadModel' is not supported; supported: LlamaForCausalLM"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace arle::testing
