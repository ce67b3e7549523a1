#pragma once
// The prompts and answer checks of the three tasks, in lm-evaluation-
// harness's default formats (docs/eval.md quotes them):
//  - MMLU: "The following are multiple choice questions (with answers) about
//    <subject>.\n\n", then the dev examples in order, each
//    "<question>\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer: <letter>" and "\n\n",
//    then the question up to "Answer:"; the choices " A".." D" are scored.
//  - HellaSwag: "<activity label>: <ctx_a> <Ctx_b>" through the harness's
//    preprocess (strip, " [title]" -> ". ", [bracketed] removed, double
//    spaces single), each preprocessed ending scored after a space.
//  - GSM8K: "Question: <q>\nAnswer: <worked answer>" examples from the train
//    split in order, joined by "\n\n", then "Question: <q>\nAnswer:"; greedy
//    until "Question:", "</s>", "<|im_end|>" or a blank line.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/eval_data.h"

namespace arle::eval {

// The answer letters of MMLU's four choices, in order.
inline constexpr char kMmluLetters[] = "ABCD";

// "high_school_biology" -> "high school biology".
std::string mmlu_subject_name(const std::string& subject);
// The question up to "Answer:" (no trailing space).
std::string mmlu_question_text(const MmluQuestion& q);
// Description, the first `shots` dev questions with their letters, the question.
std::string mmlu_prompt(const std::vector<MmluQuestion>& dev, int shots, const MmluQuestion& q);
// Generate mode: the letter a completion answers with (after spaces, maybe
// in parentheses, then not followed by a letter), or nullopt (invalid).
std::optional<int> mmlu_answer_letter(std::string_view completion);

std::string hellaswag_preprocess(std::string_view text);
std::string hellaswag_query(const HellaswagItem& item);

std::string gsm8k_prompt(const std::vector<Gsm8kItem>& train, int shots, const Gsm8kItem& item);
inline const std::vector<std::string>& gsm8k_stops() {
  static const std::vector<std::string> stops = {"Question:", "</s>", "<|im_end|>", "\n\n"};
  return stops;
}
// The harness's exact-match normalisation: commas and '$' removed, a
// trailing period dropped, spaces trimmed, lower case.
std::string normalize_number(std::string_view text);
// The reference: what follows "####", normalised.
std::string gsm8k_reference(const std::string& answer);
// The last number in a completion (the harness's flexible extract), normalised.
std::optional<std::string> gsm8k_last_number(std::string_view completion);
// The number after the first "#### " (the strict match), normalised.
std::optional<std::string> gsm8k_strict_answer(std::string_view completion);

// Mean and its standard error (sample standard deviation / sqrt(n), as the harness).
struct MeanStderr {
  double mean = 0, standard_error = 0;
  std::int64_t n = 0;
};
MeanStderr mean_stderr(const std::vector<double>& xs);

}  // namespace arle::eval
