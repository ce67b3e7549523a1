#pragma once
// Log-probabilities of tokens under the model's raw distribution
// (log_softmax of the logits, before penalties, bias or temperature, as vLLM
// reports by default), with the top-N alternatives.

#include <cstdint>
#include <vector>

#include "model/sampling_row.h"

namespace arle::engine {

using model::TokenAlternative;
using model::TokenLogprob;

// log_softmax computed once per row; top N (0 <= N <= vocab) alternatives,
// found in one pass over the row at O(vocab * N) worst case: for the small N
// the API allows (SamplingParams: at most 20).
TokenLogprob token_logprob(const float* logits, std::int64_t vocab, std::int32_t token, int top_n);

}  // namespace arle::engine
