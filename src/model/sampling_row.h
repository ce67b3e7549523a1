#pragma once
// Sampling on the model's device: what the engine sends for each logits row
// whose next token the model picks itself (SamplingRow), and what comes back
// (TokenLogprob). The engine's Sampler fills the rows so that a device draw
// follows the same rules as its own (sampler.h): bans, logit_bias and
// penalties as sparse per-token adjustments, then greedy, or temperature ->
// min_p -> top_k -> top_p -> one draw with the request's uniform.

#include <cstdint>
#include <vector>

namespace arle::model {

struct TokenAlternative {
  std::int32_t token;
  float logprob;
};

// A token's log-probability under the model's raw distribution (log_softmax
// of the logits, before penalties, bias or temperature, as vLLM reports by
// default), with the top-N alternatives, most likely first, ties by lower id.
struct TokenLogprob {
  std::int32_t token;
  float logprob;
  std::vector<TokenAlternative> top;
};

// Everything that changes one token's logit before the draw, applied in the
// Sampler's order: banned -> -inf, += bias, repetition penalty when seen,
// -= frequency * count + presence when count > 0.
struct TokenAdjustment {
  std::int32_t token;
  float bias = 0.0f;
  std::int32_t count = 0;  // times in the output so far
  bool seen = false;       // in the prompt or the output
  bool banned = false;
};

struct SamplingRow {
  std::int32_t logit_row = 0;  // which of the batch's logits rows; at most one SamplingRow each
  float temperature = 0.0f;    // 0: greedy (argmax, ties to the lower id)
  std::int32_t top_k = 0;      // 0: off
  float top_p = 1.0f, min_p = 0.0f;
  float repetition_penalty = 1.0f, presence_penalty = 0.0f, frequency_penalty = 0.0f;
  float uniform = 0.0f;        // the draw in [0, 1) (unused when greedy)
  std::int32_t logprobs = -1;  // -1: none; N: the token's logprob and the top N (N <= kMaxSampledLogprobs)
  std::vector<TokenAdjustment> adjustments;  // one per token at most
};

inline constexpr int kMaxSampledLogprobs = 20;

}  // namespace arle::model
