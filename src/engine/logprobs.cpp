#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace arle::engine {

TokenLogprob token_logprob(const float* logits, std::int64_t vocab, std::int32_t token, int top_n) {
  const float max_logit = *std::max_element(logits, logits + vocab);
  double sum = 0.0;
  for (std::int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max_logit));
  const double log_norm = static_cast<double>(max_logit) + std::log(sum);
  auto logprob = [&](std::int64_t i) { return static_cast<float>(static_cast<double>(logits[i]) - log_norm); };

  TokenLogprob out{token, logprob(token), {}};
  const auto n = static_cast<std::int64_t>(std::min<std::int64_t>(std::max(top_n, 0), vocab));
  if (n > 0) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(vocab));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), [&](std::int32_t a, std::int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (std::int64_t i = 0; i < n; ++i) out.top.push_back({ids[i], logprob(ids[i])});
  }
  return out;
}

}  // namespace arle::engine
