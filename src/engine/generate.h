#pragma once
// generate: one request from prompt ids to finished text on a CausalLm,
// without the scheduler (the Engine runs many of these interleaved). The
// prompt is prefilled in chunks through the same ForwardBatch interface,
// then one token per step is decoded, sampled, detokenized and checked
// against stop tokens and stop strings.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/logprobs.h"
#include "engine/sampling_params.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::engine {

struct GenerateRequest {
  std::vector<std::int32_t> prompt_ids;
  SamplingParams sampling;
  std::int64_t max_tokens = 256;
  std::vector<std::string> stop;              // strings; matched text is not returned
  std::vector<std::int32_t> stop_token_ids;   // e.g. the model's EOS ids
  bool prompt_logprobs = false;               // echo: logprob of every prompt token after the first
  std::int64_t prefill_chunk = 512;           // prompt tokens per forward step
};

struct GenerateTiming {
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::int64_t decode_steps = 0;
};

struct GenerateOutput {
  std::vector<std::int32_t> token_ids;  // includes a final stop token, as vLLM reports
  std::string text;                     // without special tokens or the matched stop string
  std::string finish_reason;            // "stop" or "length"
  std::vector<TokenLogprob> logprobs;   // when sampling.logprobs >= 0
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;  // first entry empty
  GenerateTiming timing;
};

// Throws kInvalidArgument when the request cannot run on a model of `config`:
// empty prompt, ids outside the vocabulary, a prompt that fills the context,
// negative max_tokens, sampling parameters out of range.
void validate_generate_request(const GenerateRequest& request, const model::ModelConfig& config);

// `on_text` receives text as it becomes final (for streaming); may be empty.
// Throws kInvalidArgument when the prompt is empty, too long for the model or
// holds ids outside the vocabulary, or a parameter is out of range.
GenerateOutput generate(model::CausalLm& model, const text::Tokenizer& tokenizer, const GenerateRequest& request,
                        const std::function<void(std::string_view)>& on_text = {});

}  // namespace arle::engine
