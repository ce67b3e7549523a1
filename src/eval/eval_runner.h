#pragma once
// One `arle eval` task end to end on a backend: the questions (limited and
// filtered), their requests (lm-evaluation-harness's tokenization of a
// context/continuation pair, contexts cut from the left to fit the model),
// the answers scored, and the report: config, metrics (per subject for
// MMLU), timing and a record per question. Requests that fail are counted
// and left out of the metrics; the report is still written.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/eval_backend.h"

namespace arle::eval {

struct EvalOptions {
  std::string task;  // mmlu, gsm8k or hellaswag
  std::filesystem::path data_dir;
  int num_fewshot = -1;                // -1: the task's default (MMLU 5, GSM8K 5, HellaSwag 0)
  std::int64_t limit = 0;              // 0: all; MMLU: questions per subject
  std::vector<std::string> subjects;   // MMLU only; empty: all
  std::string mode = "loglikelihood";  // MMLU: or "generate"
  std::int64_t max_gen_tokens = 256;   // GSM8K's completions
  std::uint64_t seed = 0;              // recorded; every request is greedy
  bool record_tokens = false;          // records keep each request's token ids (cross-checks)
};

// Throws kInvalidArgument for options that do not fit the task.
void check_eval_options(const EvalOptions& o);

// progress(done, total) after each request.
using EvalProgress = std::function<void(std::int64_t done, std::int64_t total)>;
nlohmann::ordered_json run_eval(EvalBackend& backend, const EvalOptions& o, const EvalProgress& progress);

// The report's metrics as a table for the terminal.
std::string summary_table(const nlohmann::ordered_json& report);

}  // namespace arle::eval
