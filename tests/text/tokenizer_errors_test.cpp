// Malformed or unsupported tokenizer files give an arle::Error that names the
// component; arbitrary input bytes never crash the encoder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "text/tokenizer.h"

namespace arle::text {
namespace {

using nlohmann::json;

json stories_spec() {
  static json spec = json::parse(std::ifstream(std::filesystem::path(ARLE_TEST_FIXTURES) / "models" / "stories260K" /
                                               "tokenizer.json"));
  return spec;
}

std::string error_of(const json& spec) {
  try {
    Tokenizer::from_json(spec.dump());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrors, UnsupportedComponentsAreNamed) {
  json s = stories_spec();
  s["model"]["type"] = "Unigram";
  EXPECT_NE(error_of(s).find("tokenizer model 'Unigram' is not supported"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  EXPECT_NE(error_of(s).find("normalizer 'Precompiled' is not supported"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  EXPECT_NE(error_of(s).find("pre_tokenizer 'BertPreTokenizer' is not supported"), std::string::npos);
  s = stories_spec();
  s["decoder"] = {{"type", "WordPiece"}};
  EXPECT_NE(error_of(s).find("decoder 'WordPiece' is not supported"), std::string::npos);
  s = stories_spec();
  s["post_processor"] = {{"type", "RobertaProcessing"}};
  EXPECT_NE(error_of(s).find("post_processor 'RobertaProcessing' is not supported"), std::string::npos);
  s = stories_spec();
  s["model"]["dropout"] = 0.1;
  EXPECT_NE(error_of(s).find("dropout"), std::string::npos);
}

TEST(TokenizerErrors, MalformedFilesAreRejected) {
  EXPECT_NE(error_of(json::array()).find("not a JSON object"), std::string::npos);
  json s = stories_spec();
  s.erase("model");
  EXPECT_NE(error_of(s).find("no \"model\""), std::string::npos);
  s = stories_spec();
  s["model"].erase("vocab");
  EXPECT_NE(error_of(s).find("has no vocab"), std::string::npos);
  s = stories_spec();
  s["model"]["vocab"]["<s>"] = "one";
  EXPECT_NE(error_of(s).find("vocab id of '<s>'"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["model"]["vocab"]["extra"] = 5;  // id 5 is taken
  EXPECT_NE(error_of(s).find("vocab id 5 is used twice"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["model"]["merges"].push_back(json::array({"zzz", "qqq"}));
  EXPECT_NE(error_of(s).find("uses a token not in the vocab"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["model"]["merges"].push_back(json::array({"a"}));
  EXPECT_NE(error_of(s).find("has 1 parts, not 2"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["model"]["merges"].push_back("nospace");
  EXPECT_NE(error_of(s).find("is not two tokens"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["model"]["unk_token"] = "<nope>";
  EXPECT_NE(error_of(s).find("unk_token '<nope>' is not in the vocab"), std::string::npos);
  s = stories_spec();
  s["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "(unclosed"}}}, {"content", "x"}};
  EXPECT_NE(error_of(s).find("does not compile"), std::string::npos) << error_of(s);
  s = stories_spec();
  s["added_tokens"] = json::array({{{"content", "<x>"}}});
  EXPECT_NE(error_of(s).find("needs an id and a content"), std::string::npos);
  s = stories_spec();
  s["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", " "}}}, {"behavior", "Sideways"}};
  EXPECT_NE(error_of(s).find("behavior 'Sideways'"), std::string::npos);
  try {
    Tokenizer::from_json("{\"model\": ");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
}

TEST(TokenizerErrors, LoadNamesTheFile) {
  auto dir = std::filesystem::path(::testing::TempDir()) / "arle_bad_tokenizer";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}";
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "tokenizer.json").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'WordLevel'"), std::string::npos);
  }
}

// Arbitrary bytes (invalid UTF-8 included) encode without crashing, and
// byte-level tokenizers map them to U+FFFD consistently.
TEST(TokenizerRobustness, RandomBytesEncodeAndDecode) {
  auto qwen = Tokenizer::load(std::filesystem::path(ARLE_TEST_FIXTURES) / "models" / "qwen3-tiny");
  auto stories = Tokenizer::load(std::filesystem::path(ARLE_TEST_FIXTURES) / "models" / "stories260K");
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(static_cast<std::size_t>(rng() % 64), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    for (const auto* tok : {qwen.get(), stories.get()}) {
      auto ids = tok->encode(bytes);
      for (auto id : ids) ASSERT_TRUE(tok->id_to_token(id).has_value());
      std::string text = tok->decode(ids);
      // Byte-level BPE is lossless on the (lossily repaired) input.
      if (tok == qwen.get()) {
        EXPECT_EQ(tok->encode(text, false), tok->encode(bytes, false)) << "lossy input must encode as its decoding";
      }
    }
  }
}

}  // namespace
}  // namespace arle::text

namespace arle::text {
namespace {

// WordPiece-style BPE settings: "##" marks continuation pieces and merges
// drop it ("un" + "##able" -> "unable"); end_of_word_suffix marks word ends.
TEST(BpeOptions, ContinuingSubwordPrefixAndEndOfWordSuffix) {
  json spec = {
      {"model",
       {{"type", "BPE"},
        {"vocab", {{"u", 0}, {"##n", 1}, {"un", 2}, {"##a", 3}, {"##b", 4}, {"##ab", 5}, {"una", 6}, {"unab", 7}}},
        {"merges", json::array({json::array({"u", "##n"}), json::array({"##a", "##b"}), json::array({"un", "##ab"})})},
        {"continuing_subword_prefix", "##"}}}};
  auto tok = Tokenizer::from_json(spec.dump());
  EXPECT_EQ(tok->encode("unab", false), (std::vector<TokenId>{7}));
  json suffix = {{"model",
                  {{"type", "BPE"},
                   {"vocab", {{"a", 0}, {"b</w>", 1}, {"ab</w>", 2}, {"b", 3}}},
                   {"merges", json::array({"a b</w>"})},
                   {"end_of_word_suffix", "</w>"}}}};
  EXPECT_EQ(Tokenizer::from_json(suffix.dump())->encode("ab", false), (std::vector<TokenId>{2}));
}

TEST(BpeOptions, UnknownCharactersAndFuseUnk) {
  json spec = {{"model",
                {{"type", "BPE"}, {"vocab", {{"<unk>", 0}, {"a", 1}}}, {"merges", json::array()}, {"unk_token", "<unk>"}}}};
  EXPECT_EQ(Tokenizer::from_json(spec.dump())->encode("axya", false), (std::vector<TokenId>{1, 0, 0, 1}));
  spec["model"]["fuse_unk"] = true;
  EXPECT_EQ(Tokenizer::from_json(spec.dump())->encode("axya", false), (std::vector<TokenId>{1, 0, 1}));
  spec["model"]["ignore_merges"] = true;
  spec["model"]["vocab"]["aa"] = 2;
  spec["model"]["merges"] = json::array();
  EXPECT_EQ(Tokenizer::from_json(spec.dump())->encode("aa", false), (std::vector<TokenId>{2}));  // whole word in vocab
}

}  // namespace
}  // namespace arle::text
