// The 32k Llama 2 SentencePiece-style BPE (byte fallback) against ids from an
// independent implementation (transformers.js via @lenml/tokenizers, see
// scripts/make_llama2_vectors.mjs) and llama2.c's conventions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace arle::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Tokenizer& llama2() {
  static auto t = Tokenizer::load(fs::path(ARLE_TEST_FIXTURES) / "tokenizers" / "llama2");
  return *t;
}

TEST(Llama2Tokenizer, MatchesIndependentImplementationOnEveryText) {
  std::ifstream in(fs::path(ARLE_TEST_FIXTURES) / "tokenizers" / "vectors" / "llama2_text_ids.jsonl");
  std::string line;
  int lines = 0, failures = 0;
  while (std::getline(in, line)) {
    json v = json::parse(line);
    ++lines;
    std::string text = v["text"];
    auto ids = llama2().encode(text, false);
    auto with_bos = llama2().encode(text, true);
    bool ok = ids == v["ids"].get<std::vector<TokenId>>() && with_bos == v["ids_bos"].get<std::vector<TokenId>>() &&
              llama2().decode(ids) == v["decoded"].get<std::string>();
    if (!ok && ++failures <= 5) {
      ADD_FAILURE() << "line " << lines << " " << json(text).dump() << "\n want " << v["ids"].dump() << "\n got  "
                    << json(ids).dump() << "\n decoded " << json(llama2().decode(ids)).dump() << " want "
                    << v["decoded"].dump();
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GE(lines, 600);
}

// llama2.c conventions: BOS is 1, a leading "▁" is prepended, and byte
// fallback tokens are ids 3..258 with id = byte + 3.
TEST(Llama2Tokenizer, Llama2cConventions) {
  EXPECT_EQ(llama2().encode("Hello world"), (std::vector<TokenId>{1, 15043, 3186}));
  EXPECT_EQ(llama2().bos_id(), 1);
  EXPECT_EQ(llama2().eos_id(), 2);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    EXPECT_EQ(llama2().token_to_id(name), b + 3);
  }
  // A character outside the vocabulary falls back to its UTF-8 bytes.
  std::string text = "\xF0\x9F\xA6\x80";  // U+1F980, not a Llama 2 piece
  auto ids = llama2().encode(text, false);
  ASSERT_GE(ids.size(), 4u);
  std::vector<TokenId> tail(ids.end() - 4, ids.end());
  EXPECT_EQ(tail, (std::vector<TokenId>{0xF0 + 3, 0x9F + 3, 0xA6 + 3, 0x80 + 3}));
  EXPECT_EQ(llama2().decode(ids), text);
}

TEST(Llama2Tokenizer, DecodeSkipsSpecialTokensOnRequest) {
  auto ids = llama2().encode("Hi there", true);
  ids.push_back(2);
  EXPECT_EQ(llama2().decode(ids, /*skip_special_tokens=*/true), "Hi there");
  EXPECT_EQ(llama2().decode(ids, false), "<s> Hi there</s>");
}

}  // namespace
}  // namespace arle::text
