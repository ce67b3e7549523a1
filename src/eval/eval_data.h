#pragma once
// The evaluation sets in the layouts assets/eval/README.md describes:
// MMLU's CSVs (dev for few-shot examples, test for questions), HellaSwag's
// and GSM8K's JSON lines. A malformed file is an error naming the file and
// its line, never a silent skip.

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace arle::eval {

struct MmluQuestion {
  std::string subject;  // file stem, e.g. "abstract_algebra"
  std::string question;
  std::array<std::string, 4> choices;
  int answer = 0;  // 0..3 (A..D)
};

struct MmluData {
  // Subjects in name order; each with its dev (shots) and test questions.
  std::map<std::string, std::vector<MmluQuestion>> dev, test;
};

// dir/dev/<subject>_dev.csv and dir/test/<subject>_test.csv; every test
// subject needs its dev file.
MmluData load_mmlu(const std::filesystem::path& dir);

struct HellaswagItem {
  std::string activity_label, ctx_a, ctx_b;
  std::vector<std::string> endings;
  int label = 0;
};
std::vector<HellaswagItem> load_hellaswag(const std::filesystem::path& file);

struct Gsm8kItem {
  std::string question, answer;  // answer: worked solution ending "#### N"
};
std::vector<Gsm8kItem> load_gsm8k(const std::filesystem::path& file);

// The bundled data folder (holding mmlu/, gsm8k/, hellaswag/), if found:
// PREFIX/share/arle/eval beside an installed binary, else assets/eval in the
// source tree the binary was built from.
std::optional<std::filesystem::path> find_bundled_eval_data();

}  // namespace arle::eval
