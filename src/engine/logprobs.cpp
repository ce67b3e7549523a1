#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>

namespace arle::engine {

TokenLogprob token_logprob(const float* logits, std::int64_t vocab, std::int32_t token, int top_n) {
  const float max_logit = *std::max_element(logits, logits + vocab);
  double sum = 0.0;
  for (std::int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max_logit));
  const double log_norm = static_cast<double>(max_logit) + std::log(sum);
  auto logprob = [&](std::int64_t i) { return static_cast<float>(static_cast<double>(logits[i]) - log_norm); };

  TokenLogprob out{token, logprob(token), {}};
  const auto n = static_cast<std::size_t>(std::min<std::int64_t>(std::max(top_n, 0), vocab));
  if (n > 0) {
    // One pass keeping the best n ids, highest logit first and the lower id
    // first on ties (ids arrive ascending, so a tie never displaces).
    std::vector<std::int32_t> best;
    best.reserve(n + 1);
    for (std::int64_t i = 0; i < vocab; ++i) {
      if (best.size() == n && !(logits[i] > logits[best.back()])) continue;
      auto at = std::upper_bound(best.begin(), best.end(), logits[i],
                                 [&](float value, std::int32_t id) { return value > logits[id]; });
      best.insert(at, static_cast<std::int32_t>(i));
      if (best.size() > n) best.pop_back();
    }
    for (std::int32_t id : best) out.top.push_back({id, logprob(id)});
  }
  return out;
}

}  // namespace arle::engine
