// Every file of the broken-file corpus (scripts/make_safetensors_corpus.py)
// must give an arle::Error naming the file and the problem, or load if it is
// one of the valid ones. CI runs this under ASan and UBSan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/safetensors.h"

namespace arle::model {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() { return fs::path(ARLE_TEST_FIXTURES) / "safetensors_corpus"; }

struct Case {
  std::string file;
  std::string expect;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

std::vector<Case> load_cases() {
  std::ifstream in(corpus_dir() / "manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(in);
  std::vector<Case> cases;
  for (const auto& c : manifest) cases.push_back({c["file"], c["expect"]});
  return cases;
}

class SafetensorsCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(SafetensorsCorpus, GivesTheExpectedOutcome) {
  const Case& c = GetParam();
  fs::path path = corpus_dir() / c.file;
  if (c.expect.empty()) {
    EXPECT_NO_THROW(SafetensorsFile::open(path)) << c.file;
    return;
  }
  try {
    SafetensorsFile::open(path);
    FAIL() << c.file << " loaded but should fail with '" << c.expect << "'";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kInvalidModel) << message;
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.file << ": " << message;
    EXPECT_NE(message.find(c.file), std::string::npos) << "error does not name the file: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "error should be one line: " << message;
  }
}

TEST(SafetensorsCorpusManifest, CoversEveryFileInTheFolder) {
  std::set<std::string> listed;
  for (const auto& c : load_cases()) listed.insert(c.file);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(corpus_dir())) {
    if (entry.path().extension() != ".safetensors") continue;
    ++files;
    EXPECT_TRUE(listed.count(entry.path().filename().string())) << entry.path();
  }
  EXPECT_EQ(files, listed.size());
  EXPECT_GE(files, 40u);
}

// Cutting a real file at every length up to its header end, and at a few
// points in its data, must fail cleanly.
TEST(SafetensorsCorpusTruncation, EveryPrefixOfARealFileFailsCleanly) {
  fs::path real = fs::path(ARLE_TEST_FIXTURES) / "models" / "qwen3.5-tiny" / "model.safetensors";
  std::ifstream in(real, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  std::uint64_t header_end = 8;
  for (int i = 7; i >= 0; --i) header_end += static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  EXPECT_NO_THROW(parse_safetensors(bytes, "full"));
  std::vector<std::size_t> cuts;
  for (std::size_t n = 0; n <= header_end + 16; ++n) cuts.push_back(n);
  for (std::size_t n = header_end + 16; n < bytes.size(); n += 4099) cuts.push_back(n);
  cuts.push_back(bytes.size() - 1);
  for (std::size_t n : cuts) {
    std::span<const std::uint8_t> prefix(bytes.data(), n);
    EXPECT_THROW(parse_safetensors(prefix, "prefix"), Error) << "prefix of " << n << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(Files, SafetensorsCorpus, ::testing::ValuesIn(load_cases()), [](const auto& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.'));
  return name;
});

}  // namespace
}  // namespace arle::model
