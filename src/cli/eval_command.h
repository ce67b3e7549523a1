#pragma once
// `arle eval TASK`: MMLU, GSM8K or HellaSwag (docs/eval.md) on the engine in
// this process (--model-path) or on any OpenAI-compatible server
// (--base-url, --model, --api-key), with a progress bar, a summary table,
// and the full report as JSON (--output).

#include <cstdint>
#include <optional>
#include <string>

#include "cli/compute_options.h"
#include "cli/engine_options.h"
#include "eval/eval_runner.h"

namespace arle::cli {

struct EvalCommandOptions {
  eval::EvalOptions eval;
  std::string subjects;  // comma-separated
  std::optional<std::string> data_dir;
  std::string model_path;                               // local
  std::optional<std::string> base_url, model, api_key;  // remote
  int concurrency = 32;
  std::optional<std::string> output;
  double timeout_seconds = 600;  // remote: one try of a request
  int retries = 4;               // remote: tries after the first on 429, 503 or no answer
  EngineOptions engine;
  ComputeOptions compute;
};

int run_eval_command(const EvalCommandOptions& options);

}  // namespace arle::cli
