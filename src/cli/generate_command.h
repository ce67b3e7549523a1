#pragma once
// `arle generate`: one completion from the command line, for scripts, tests
// and quick checks of a model. Prints the text (streamed with --stream) or,
// with --json, one object {prompt_ids, token_ids, text, finish_reason[,
// logprobs][, prompt_logprobs]}.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/compute_options.h"

namespace arle::cli {

struct GenerateOptions {
  std::string model_path;
  std::optional<std::string> prompt;
  std::optional<std::string> prompt_ids;  // "1,2,3"
  std::optional<std::string> chat;        // one user message through the chat template
  std::int64_t max_tokens = 256;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<std::int64_t> top_k;
  double presence_penalty = 0, frequency_penalty = 0;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<int> logprobs;
  bool echo = false;
  bool stream = false;
  bool json = false;
  bool ignore_eos = false;
  ComputeOptions compute;  // --threads, --backend, --no-cuda-graph
  std::int64_t prefill_chunk = 512;
};

// Returns the exit code; throws arle::Error (kInvalidArgument for bad options).
int run_generate(const GenerateOptions& options);

}  // namespace arle::cli
