// Streaming decode must equal one-shot decode exactly, for real texts, real
// model generations and random id sequences (broken UTF-8 included), and must
// never emit half a character.
#include "text/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/utf8.h"

namespace arle::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixtures() { return fs::path(ARLE_TEST_FIXTURES); }

std::string stream(const Tokenizer& tok, const std::vector<TokenId>& ids, bool skip_special,
                   std::vector<std::string>* deltas = nullptr) {
  IncrementalDetokenizer d(tok, skip_special);
  std::string text;
  for (TokenId id : ids) {
    std::string delta = d.push(id);
    if (deltas) deltas->push_back(delta);
    text += delta;
  }
  std::string tail = d.finish();
  if (deltas) deltas->push_back(tail);
  return text + tail;
}

struct Case {
  const char* name;
  fs::path dir;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Streaming : public ::testing::TestWithParam<Case> {};

TEST_P(Streaming, RealTextsStreamToTheOneShotDecode) {
  auto tok = Tokenizer::load(GetParam().dir);
  std::ifstream in(fixtures() / "tokenizers" / "vectors" / "qwen3_text_ids.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto ids = tok->encode(json::parse(line)["text"].get<std::string>(), true);
    for (bool skip : {false, true}) {
      std::vector<std::string> deltas;
      ASSERT_EQ(stream(*tok, ids, skip, &deltas), tok->decode(ids, skip)) << GetParam().name << " line " << n;
      for (std::size_t i = 0; i + 1 < deltas.size(); ++i) {
        EXPECT_EQ(find_invalid_utf8(deltas[i]), std::nullopt) << "delta " << i << " splits a character";
      }
    }
    ++n;
  }
  EXPECT_GE(n, 600);
}

TEST_P(Streaming, RandomIdsStreamToTheOneShotDecode) {
  auto tok = Tokenizer::load(GetParam().dir);
  std::mt19937 rng(7);
  const auto vocab = static_cast<TokenId>(tok->vocab_size());
  std::uniform_int_distribution<TokenId> any(0, vocab - 1);
  std::uniform_int_distribution<TokenId> low(0, std::min<TokenId>(vocab - 1, 300));  // byte tokens live here
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<TokenId> ids;
    int len = 1 + trial % 40;
    for (int i = 0; i < len; ++i) ids.push_back(i % 3 == 0 ? low(rng) : any(rng));
    for (bool skip : {false, true}) {
      ASSERT_EQ(stream(*tok, ids, skip), tok->decode(ids, skip)) << GetParam().name << " trial " << trial;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Streaming,
                         ::testing::Values(Case{"qwen3", fixtures() / "models" / "qwen3-tiny"},
                                           Case{"gpt2", fixtures() / "tokenizers" / "gpt2"},
                                           Case{"llama2", fixtures() / "tokenizers" / "llama2"},
                                           Case{"stories260K", fixtures() / "models" / "stories260K"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StreamingGenerations, ModelFixtureGenerationsStreamToTheOneShotDecode) {
  for (const char* model : {"stories260K", "qwen3-tiny", "qwen3.5-tiny", "qwen3-moe-tiny"}) {
    fs::path dir = fixtures() / "models" / model;
    auto tok = Tokenizer::load(dir);
    const json reference = json::parse(std::ifstream(dir / "reference.json"));  // must outlive the loop
    for (const json& c : reference["cases"]) {
      auto ids = c["input_ids"].get<std::vector<TokenId>>();
      auto gen = c["greedy_ids"].get<std::vector<TokenId>>();
      ids.insert(ids.end(), gen.begin(), gen.end());
      for (bool skip : {false, true}) EXPECT_EQ(stream(*tok, ids, skip), tok->decode(ids, skip)) << model;
    }
  }
}

// A completion streamed after its prompt reads as the continuation of the
// prompt's text: " a time" after "Once upon", with its space.
TEST(StreamingGenerations, AfterAPromptTheStreamContinuesThePromptText) {
  for (const char* model : {"stories260K", "qwen3-tiny", "qwen3-moe-tiny"}) {
    fs::path dir = fixtures() / "models" / model;
    auto tok = Tokenizer::load(dir);
    const json reference = json::parse(std::ifstream(dir / "reference.json"));
    for (const json& c : reference["cases"]) {
      const auto prompt = c["input_ids"].get<std::vector<TokenId>>();
      const auto gen = c["greedy_ids"].get<std::vector<TokenId>>();
      std::vector<TokenId> all = prompt;
      all.insert(all.end(), gen.begin(), gen.end());
      IncrementalDetokenizer d(*tok, true, prompt);
      std::string text;
      for (TokenId id : gen) text += d.push(id);
      text += d.finish();
      const std::string before = tok->decode(prompt, true), after = tok->decode(all, true);
      ASSERT_EQ(after.compare(0, before.size(), before), 0);
      EXPECT_EQ(text, after.substr(before.size())) << model;
    }
  }
  auto stories = Tokenizer::load(fixtures() / "models" / "stories260K");
  IncrementalDetokenizer d(*stories, true, {1, 403, 407});  // <s> Once upon
  EXPECT_EQ(d.push(261), " a");
}

TEST(StreamingUtf8, HoldsBackPartialCharacters) {
  auto tok = Tokenizer::load(fixtures() / "models" / "qwen3-tiny");
  // "é" is two bytes; byte-level tokens for 0xC3 and 0xA9 arrive separately.
  TokenId c3 = *tok->token_to_id("\xC3\x83");  // byte 0xC3 in the byte-level alphabet
  TokenId a9 = *tok->token_to_id("\xC2\xA9");  // byte 0xA9
  IncrementalDetokenizer d(*tok, false);
  EXPECT_EQ(d.push(c3), "");
  EXPECT_EQ(d.push(a9), "\xC3\xA9");
  EXPECT_EQ(d.push(c3), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");  // a dangling lead byte surfaces at the end
}

}  // namespace
}  // namespace arle::text
