// Every reference vector, id for id: Qwen3, Qwen2.5 and GPT-2 texts, the
// tokenized chat-template renderings, and the input_ids of every model
// fixture's reference.json (which transformers produced).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixtures() { return fs::path(ARLE_TEST_FIXTURES); }

fs::path tokenizer_dir(const std::string& name) {
  if (name == "qwen3") return fixtures() / "models" / "qwen3-tiny";
  return fixtures() / "tokenizers" / name;
}

const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& t = cache[name];
  if (!t) t = Tokenizer::load(tokenizer_dir(name));
  return *t;
}

std::string show(const std::vector<TokenId>& ids) {
  std::string s;
  for (auto id : ids) s += std::to_string(id) + " ";
  return s;
}

class TextVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(TextVectors, EveryLineMatchesIdForIdAndDecodesBack) {
  const std::string name = GetParam();
  const Tokenizer& tok = tokenizer(name);
  std::ifstream in(fixtures() / "tokenizers" / "vectors" / (name + "_text_ids.jsonl"));
  std::string line;
  int lines = 0, failures = 0;
  while (std::getline(in, line)) {
    json v = json::parse(line);
    std::string text = v["text"];
    auto want = v["ids"].get<std::vector<TokenId>>();
    auto got = tok.encode(text, /*add_special_tokens=*/false);
    ++lines;
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << name << " line " << lines << " set " << v["set"] << " text " << json(text).dump()
                    << "\n want " << show(want) << "\n got  " << show(got);
    }
    // Byte-level BPE is lossless: decoding gives back the (NFC-normalized, for Qwen) text.
    std::string expected_text = name == "gpt2" ? text : normalize_unicode(text, NormalForm::kNFC);
    if (got == want) {
      EXPECT_EQ(tok.decode(got), expected_text) << name << " line " << lines;
    }
  }
  EXPECT_EQ(failures, 0) << name;
  EXPECT_GE(lines, 600);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TextVectors, ::testing::Values("qwen3", "qwen2.5", "gpt2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

class ChatTemplateCases : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateCases, RenderedPromptsTokenizeToTheReferenceIds) {
  const std::string name = GetParam();
  json doc = json::parse(std::ifstream(fixtures() / "tokenizers" / "vectors" / (name + "_chat_template_cases.json")));
  int cases = 0;
  for (const json& c : doc["cases"]) {
    std::string text = c.contains("rendered") ? c["rendered"].get<std::string>() : c["text"].get<std::string>();
    auto want = c["ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(tokenizer(name).encode(text, false), want) << name << " case " << c.value("name", "?");
    ++cases;
  }
  EXPECT_GT(cases, 0);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, ChatTemplateCases, ::testing::Values("qwen3", "qwen2.5"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

class FixtureInputIds : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureInputIds, MatchTransformers) {
  fs::path dir = fixtures() / "models" / GetParam();
  auto tok = Tokenizer::load(dir);
  json ref = json::parse(std::ifstream(dir / "reference.json"));
  int cases = 0;
  for (const json& c : ref["cases"]) {
    if (!c.contains("text")) continue;
    auto want = c["input_ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(tok->encode(c["text"].get<std::string>(), /*add_special_tokens=*/true), want)
        << GetParam() << " case " << c.value("name", "?") << " text " << c["text"].dump();
    ++cases;
  }
  EXPECT_GT(cases, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureInputIds,
                         ::testing::Values("stories260K", "qwen3-tiny", "qwen3-small-vocab", "qwen3-moe-tiny",
                                           "qwen3.5-tiny", "qwen3.5-moe-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace arle::text
