// The tasks' text formats and answer checks against lm-evaluation-harness's
// definitions (quoted in docs/eval.md), and the CSV reader on RFC 4180's
// corner cases and on bad input.
#include "eval/eval_tasks.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "eval/csv_reader.h"

namespace arle::eval {
namespace {

TEST(Csv, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const auto records = parse_csv("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,x\n", "t.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], (CsvRecord{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(records[1], (CsvRecord{"two\nlines", "", "x"}));
  EXPECT_EQ(parse_csv("last,record", "t.csv").size(), 1u);  // no final line break
  EXPECT_TRUE(parse_csv("", "t.csv").empty());
}

TEST(Csv, MalformedInputNamesTheFileAndLine) {
  try {
    parse_csv("ok,1\n\"never closed,2\n", "bad.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_csv("a\"b,c\n", "bad.csv"), Error);
  EXPECT_THROW(parse_csv("\"a\"b,c\n", "bad.csv"), Error);
}

MmluQuestion question(std::string subject, std::string text, int answer) {
  return {std::move(subject), std::move(text), {"one", "two", "three", "four"}, answer};
}

TEST(Mmlu, PromptIsTheHarnessDefaultFormat) {
  const std::vector<MmluQuestion> dev = {question("high_school_biology", "  First?\n", 2),
                                         question("high_school_biology", "Second?", 0)};
  const MmluQuestion q = question("high_school_biology", "Third?", 3);
  EXPECT_EQ(mmlu_prompt(dev, 1, q),
            "The following are multiple choice questions (with answers) about high school biology.\n\n"
            "First?\nA. one\nB. two\nC. three\nD. four\nAnswer: C\n\n"
            "Third?\nA. one\nB. two\nC. three\nD. four\nAnswer:");
  EXPECT_EQ(mmlu_prompt(dev, 0, q),
            "The following are multiple choice questions (with answers) about high school biology.\n\n"
            "Third?\nA. one\nB. two\nC. three\nD. four\nAnswer:");
}

TEST(Mmlu, GeneratedAnswerLetters) {
  EXPECT_EQ(mmlu_answer_letter(" B"), 1);
  EXPECT_EQ(mmlu_answer_letter(" C. because"), 2);
  EXPECT_EQ(mmlu_answer_letter("(D)"), 3);
  EXPECT_EQ(mmlu_answer_letter("\nA"), 0);
  EXPECT_EQ(mmlu_answer_letter(" Because"), std::nullopt);  // a word, not a letter
  EXPECT_EQ(mmlu_answer_letter(" E"), std::nullopt);
  EXPECT_EQ(mmlu_answer_letter("(B"), std::nullopt);
  EXPECT_EQ(mmlu_answer_letter(""), std::nullopt);
}

TEST(Hellaswag, PreprocessAsTheHarness) {
  EXPECT_EQ(hellaswag_preprocess("  How to tie a tie [title] Cross the ends. [step] Pull  it. "),
            "How to tie a tie. Cross the ends. Pull it.");
  EXPECT_EQ(hellaswag_preprocess("a   b"), "a  b");  // str.replace("  ", " ") makes one pass
  EXPECT_EQ(hellaswag_preprocess("unclosed [bracket"), "unclosed [bracket");
  HellaswagItem item{"Pole vault", "A man runs.", "tHE man JUMPS", {"x", "y"}, 0};
  EXPECT_EQ(hellaswag_query(item), "Pole vault: A man runs. The man jumps");  // str.capitalize()
}

TEST(Gsm8k, PromptAndNumbers) {
  const std::vector<Gsm8kItem> train = {{"1+1?", "It is 2.\n#### 2"}};
  EXPECT_EQ(gsm8k_prompt(train, 1, {"2+2?", ""}),
            "Question: 1+1?\nAnswer: It is 2.\n#### 2\n\nQuestion: 2+2?\nAnswer:");
  EXPECT_EQ(gsm8k_reference("He pays 3 * 1,000 = <<3*1000=3000>>3000.\n#### 3,000"), "3000");
  EXPECT_EQ(gsm8k_last_number(" She makes $18 a day. The answer is 18."), "18");
  EXPECT_EQ(gsm8k_last_number(" It costs $1,250.50 in total"), "1250.50");
  EXPECT_EQ(gsm8k_last_number(" -7 degrees"), "-7");
  EXPECT_EQ(gsm8k_last_number(" no digits here"), std::nullopt);
  EXPECT_EQ(gsm8k_strict_answer(" so 5 + 4 = 9\n#### 9"), "9");
  EXPECT_EQ(gsm8k_strict_answer(" the answer is 9"), std::nullopt);
  EXPECT_EQ(normalize_number(" $1,000. "), "1000");
}

TEST(Metrics, MeanAndStandardErrorAsTheHarness) {
  const MeanStderr m = mean_stderr({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(m.mean, 0.75);
  EXPECT_NEAR(m.standard_error, 0.25, 1e-12);  // sample sd 0.5 / sqrt(4)
  EXPECT_EQ(mean_stderr({}).n, 0);
}

}  // namespace
}  // namespace arle::eval
