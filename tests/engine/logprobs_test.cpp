// token_logprob against a direct computation: log_softmax in double and the
// top N by sorting every id (highest logit first, the lower id on ties), on
// rows with many tied logits.
#include "engine/logprobs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace arle::engine {
namespace {

TEST(TokenLogprob, MatchesASortOfTheWholeRowWithTies) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const std::int64_t vocab = 1 + static_cast<std::int64_t>(rng() % 3000);
    std::vector<float> logits(static_cast<std::size_t>(vocab));
    // Few distinct values: ties everywhere, the top included.
    for (float& x : logits) x = static_cast<float>(static_cast<int>(rng() % 12) - 6) * 0.75f;
    double sum = 0;
    const float top = *std::max_element(logits.begin(), logits.end());
    for (float x : logits) sum += std::exp(static_cast<double>(x - top));
    const double log_norm = static_cast<double>(top) + std::log(sum);
    std::vector<std::int32_t> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b]; });
    const auto token = static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(vocab));
    for (int n : {0, 1, 5, 20}) {
      const TokenLogprob got = token_logprob(logits.data(), vocab, token, n);
      EXPECT_EQ(got.token, token);
      EXPECT_NEAR(got.logprob, logits[static_cast<std::size_t>(token)] - log_norm, 1e-6);
      const std::size_t expected = std::min<std::size_t>(static_cast<std::size_t>(n), ids.size());
      ASSERT_EQ(got.top.size(), expected) << "vocab " << vocab << " n " << n;
      for (std::size_t i = 0; i < expected; ++i) {
        EXPECT_EQ(got.top[i].token, ids[i]) << "vocab " << vocab << " n " << n << " rank " << i;
        EXPECT_NEAR(got.top[i].logprob, logits[static_cast<std::size_t>(ids[i])] - log_norm, 1e-6);
      }
    }
  }
}

TEST(TokenLogprob, AllAlternativesOfASmallVocabulary) {
  const std::vector<float> logits = {0.5f, 2.0f, 0.5f, -1.0f};
  const TokenLogprob got = token_logprob(logits.data(), 4, 2, 4);
  ASSERT_EQ(got.top.size(), 4u);
  EXPECT_EQ(got.top[0].token, 1);
  EXPECT_EQ(got.top[1].token, 0);  // tied with 2: the lower id first
  EXPECT_EQ(got.top[2].token, 2);
  EXPECT_EQ(got.top[3].token, 3);
  EXPECT_FLOAT_EQ(got.logprob, got.top[2].logprob);
}

}  // namespace
}  // namespace arle::engine
