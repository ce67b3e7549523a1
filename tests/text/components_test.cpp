// tokenizer.json components on the examples of the Hugging Face tokenizers
// documentation (Split behaviors on "the-final--countdown", etc.).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "text/added_vocabulary.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"

namespace arle::text {
namespace {

using nlohmann::json;
using Pieces = std::vector<std::string>;

Pieces pre_tokenize(const json& spec, std::string_view text) {
  Pieces out;
  make_pre_tokenizer(spec)->split(text, true, out);
  return out;
}

TEST(SplitPreTokenizer, EveryBehaviorOnTheDocumentationExample) {
  auto split = [](const char* behavior, bool invert = false) {
    return pre_tokenize({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}},
                        "the-final--countdown");
  };
  EXPECT_EQ(split("Removed"), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split("Isolated"), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithPrevious"), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithNext"), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("Contiguous"), (Pieces{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split("Removed", true), (Pieces{"-", "-", "-"}));
}

TEST(OtherPreTokenizers, DocumentationExamples) {
  EXPECT_EQ(pre_tokenize({{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}},
                         "Hey friend"),
            (Pieces{"\xE2\x96\x81Hey", "\xE2\x96\x81" "friend"}));
  EXPECT_EQ(pre_tokenize({{"type", "Metaspace"}, {"prepend_scheme", "never"}, {"split", false}}, "a b"),
            (Pieces{"a\xE2\x96\x81" "b"}));
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, "Call 123 please"),
            (Pieces{"Call ", "1", "2", "3", " please"}));
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, "Call 123 please"),
            (Pieces{"Call ", "123", " please"}));
  EXPECT_EQ(pre_tokenize({{"type", "Punctuation"}}, "Hey friend!?"), (Pieces{"Hey friend", "!", "?"}));
  EXPECT_EQ(pre_tokenize({{"type", "Whitespace"}}, "Hey friend,  hi"), (Pieces{"Hey", "friend", ",", "hi"}));
  EXPECT_EQ(pre_tokenize({{"type", "WhitespaceSplit"}}, "Hey friend,\n hi"), (Pieces{"Hey", "friend,", "hi"}));
  // GPT-2's ByteLevel: regex split, then bytes mapped (space -> U+0120 "Ġ").
  EXPECT_EQ(pre_tokenize({{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}, "Hello my friend"),
            (Pieces{"\xC4\xA0Hello", "\xC4\xA0my", "\xC4\xA0" "friend"}));
}

TEST(Normalizers, EachKind) {
  auto norm = [](const json& spec, std::string_view text) { return make_normalizer(spec)->normalize(text); };
  EXPECT_EQ(norm({{"type", "NFC"}}, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(norm({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(norm({{"type", "NFKC"}}, "\xEF\xAC\x81"), "fi");  // U+FB01 ligature
  EXPECT_EQ(norm({{"type", "Lowercase"}}, "HeLLo \xC3\x89"), "hello \xC3\xA9");
  EXPECT_EQ(norm({{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, "hi"), "\xE2\x96\x81hi");
  EXPECT_EQ(norm({{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, ""), "");
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "_"}}, "a b c"), "a_b_c");
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}}, "a \t\n b"), "a b");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, " \t hi \xE3\x80\x80"), "hi");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}, "  hi  "), "  hi");
  EXPECT_EQ(norm({{"type", "Sequence"}, {"normalizers", {{{"type", "Lowercase"}}, {{"type", "NFD"}}}}}, "\xC3\x89"),
            "e\xCC\x81");
}

TEST(Decoders, EachKind) {
  auto dec = [](const json& spec, Pieces tokens) {
    std::string out;
    for (const auto& t : make_decoder(spec)->decode_chain(std::move(tokens))) out += t;
    return out;
  };
  EXPECT_EQ(dec({{"type", "ByteLevel"}}, {"Hello", "\xC4\xA0world"}), "Hello world");
  EXPECT_EQ(dec({{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}}, {"\xE2\x96\x81Hey", "\xE2\x96\x81you"}),
            "Hey you");
  EXPECT_EQ(dec({{"type", "ByteFallback"}}, {"a", "<0xE4>", "<0xB8>", "<0xAD>", "b"}), "a\xE4\xB8\xAD" "b");
  EXPECT_EQ(dec({{"type", "ByteFallback"}}, {"<0x5D>", "<0xDD>", "x"}), "\xEF\xBF\xBD\xEF\xBF\xBDx");  // invalid run
  EXPECT_EQ(dec({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}, {"  a  "}), " a ");
  EXPECT_EQ(dec({{"type", "Replace"}, {"pattern", {{"String", "_"}}}, {"content", " "}}, {"a_b"}), "a b");
}

TEST(AddedTokens, StripAndSingleWordOptions) {
  json tokens = json::array({
      {{"id", 10}, {"content", "<mask>"}, {"lstrip", true}, {"rstrip", true}, {"special", true}},
      {{"id", 11}, {"content", "cat"}, {"single_word", true}, {"normalized", false}},
      {{"id", 12}, {"content", "<ab>"}, {"special", true}},
      {{"id", 13}, {"content", "<abc>"}, {"special", true}},
  });
  AddedVocabulary v(tokens);
  auto show = [&](std::string_view text) {
    std::string out;
    for (const auto& s : v.split(text, false)) {
      if (s.token) {
        out.append("[").append(std::to_string(*s.token)).append("]");
      } else {
        out.append("(").append(s.text).append(")");
      }
    }
    return out;
  };
  EXPECT_EQ(show("a  <mask>  b"), "(a)[10](b)");       // whitespace on both sides swallowed
  EXPECT_EQ(show("cat concat cat."), "[11]( concat )[11](.)");  // not inside "concat"
  EXPECT_EQ(show("x<abc>y<ab>"), "(x)[13](y)[12]");     // longest match wins
}

}  // namespace
}  // namespace arle::text

namespace arle::text {
namespace {

TEST(OtherPreTokenizers, MetaspacePrependFirstOnlyForTheFirstPiece) {
  auto meta = make_pre_tokenizer({{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}});
  Pieces out;
  meta->split("Hey you", true, out);
  meta->split("there", false, out);  // a piece after an added token
  EXPECT_EQ(out, (Pieces{"\xE2\x96\x81Hey", "\xE2\x96\x81you", "there"}));
}

}  // namespace
}  // namespace arle::text
