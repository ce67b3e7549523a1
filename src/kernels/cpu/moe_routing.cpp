#include "kernels/cpu/moe_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace arle::kernels::cpu {

void moe_route(const float* logits, std::int64_t rows, std::int64_t experts, std::int64_t k, bool normalize,
               std::int32_t* ids, float* weights) {
  std::vector<float> probs(static_cast<std::size_t>(experts));
  std::vector<std::int32_t> order(static_cast<std::size_t>(experts));
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* l = logits + r * experts;
    const float max_logit = *std::max_element(l, l + experts);
    float sum = 0.0f;
    for (std::int64_t e = 0; e < experts; ++e) sum += probs[e] = std::exp(l[e] - max_logit);
    for (std::int64_t e = 0; e < experts; ++e) probs[e] /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int32_t a, std::int32_t b) {
      return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
    });
    float top_sum = 0.0f;
    for (std::int64_t j = 0; j < k; ++j) top_sum += probs[order[j]];
    for (std::int64_t j = 0; j < k; ++j) {
      ids[r * k + j] = order[j];
      weights[r * k + j] = normalize ? probs[order[j]] / top_sum : probs[order[j]];
    }
  }
}

}  // namespace arle::kernels::cpu
