#pragma once
// Log-probabilities of tokens under the model's raw distribution
// (log_softmax of the logits, before penalties, bias or temperature, as vLLM
// reports by default), with the top-N alternatives.

#include <cstdint>
#include <vector>

namespace arle::engine {

struct TokenAlternative {
  std::int32_t token;
  float logprob;
};

struct TokenLogprob {
  std::int32_t token;
  float logprob;
  std::vector<TokenAlternative> top;  // most likely first; ties by lower id
};

// log_softmax computed once per row; top N (0 <= N <= vocab) alternatives.
TokenLogprob token_logprob(const float* logits, std::int64_t vocab, std::int32_t token, int top_n);

}  // namespace arle::engine
