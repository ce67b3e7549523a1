#pragma once
// SamplingParams: how one request turns logits into tokens, with the ranges
// OpenAI and vLLM accept. Defaults sample from the model's distribution.

#include <cstdint>
#include <map>
#include <optional>

#include "model/sampling_row.h"

namespace arle::engine {

inline constexpr int kMaxLogprobs = model::kMaxSampledLogprobs;

struct SamplingParams {
  double temperature = 1.0;                  // 0: greedy
  double top_p = 1.0;                        // (0, 1]
  std::int64_t top_k = 0;                    // 0 or -1: off
  double min_p = 0.0;                        // [0, 1]
  double repetition_penalty = 1.0;           // > 0; prompt and output tokens
  double presence_penalty = 0.0;             // [-2, 2]; output tokens
  double frequency_penalty = 0.0;            // [-2, 2]; output tokens
  std::map<std::int32_t, float> logit_bias;  // token -> [-100, 100]
  std::optional<std::uint64_t> seed;         // reproducible draws when set
  int logprobs = -1;                         // -1: none; N >= 0: chosen token's logprob and top N

  bool greedy() const { return temperature == 0.0 || top_k == 1; }
};

// Throws arle::Error(kInvalidArgument) naming the field and its valid range.
void validate_sampling_params(const SamplingParams& params, std::int64_t vocab_size);

}  // namespace arle::engine
