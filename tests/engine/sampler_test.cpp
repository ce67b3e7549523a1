// Sampling: each filter keeps exactly the tokens it should, draws follow the
// filtered distribution, penalties and bias change the right logits, and a
// seed reproduces a sample.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace arle::engine {
namespace {

std::vector<float> test_logits() {
  // Distinct values, a few large, a long tail.
  std::vector<float> l(64);
  for (std::size_t i = 0; i < l.size(); ++i) l[i] = static_cast<float>(std::sin(double(i) * 1.7) * 3.0 - 0.05 * i);
  return l;
}

std::vector<double> softmax(const std::vector<float>& l, double temperature) {
  std::vector<double> p(l.size());
  const double mx = *std::max_element(l.begin(), l.end());
  double sum = 0;
  for (std::size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp((l[i] - mx) / temperature);
  for (double& x : p) x /= sum;
  return p;
}

std::vector<std::size_t> by_probability(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
  return order;
}

// Draw `n` samples and check every token's frequency against `want` within
// 5 standard deviations (false alarm rate far below 1e-4 for 64 tokens).
void expect_frequencies(SamplingParams params, const std::vector<float>& logits, const std::vector<double>& want,
                        int n = 40000) {
  params.seed = 1234;
  std::vector<int> counts(logits.size());
  Sampler sampler(params, {}, static_cast<std::int64_t>(logits.size()));
  for (int i = 0; i < n; ++i) {
    ++counts[sampler.sample(logits.data()).token];
  }
  for (std::size_t t = 0; t < logits.size(); ++t) {
    const double f = double(counts[t]) / n;
    const double sigma = std::sqrt(want[t] * (1 - want[t]) / n);
    if (want[t] == 0) {
      EXPECT_EQ(counts[t], 0) << "token " << t << " is outside the kept set";
    } else {
      EXPECT_NEAR(f, want[t], 5 * sigma + 1e-9) << "token " << t;
    }
  }
}

TEST(Sampler, GreedyTakesTheArgmaxAndBreaksTiesToTheLowerId) {
  std::vector<float> l{0.5f, 2.0f, 1.0f, 2.0f};
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, {}, 4);
  EXPECT_EQ(s.sample(l.data()).token, 1);
  SamplingParams k1;
  k1.top_k = 1;
  Sampler s1(k1, {}, 4);
  EXPECT_EQ(s1.sample(l.data()).token, 1);
}

TEST(Sampler, TemperatureSamplesFollowTheSoftmax) {
  const auto l = test_logits();
  for (double t : {1.0, 0.7, 1.6}) {
    SamplingParams p;
    p.temperature = t;
    expect_frequencies(p, l, softmax(l, t));
  }
}

TEST(Sampler, TopKKeepsExactlyTheKMostLikely) {
  const auto l = test_logits();
  SamplingParams p;
  p.top_k = 5;
  auto full = softmax(l, 1.0);
  auto order = by_probability(full);
  std::vector<double> want(l.size(), 0.0);
  double mass = 0;
  for (int i = 0; i < 5; ++i) mass += full[order[i]];
  for (int i = 0; i < 5; ++i) want[order[i]] = full[order[i]] / mass;
  Sampler s(p, {}, 64);
  auto dist = s.distribution(l.data());
  for (std::size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(dist[i], want[i], 1e-12) << i;
  expect_frequencies(p, l, want);
}

TEST(Sampler, TopPKeepsExactlyTheNucleus) {
  const auto l = test_logits();
  auto full = softmax(l, 1.0);
  auto order = by_probability(full);
  for (double top_p : {0.3, 0.8, 0.95}) {
    // The nucleus: the smallest most-likely prefix whose mass reaches top_p.
    std::vector<double> want(l.size(), 0.0);
    double mass = 0;
    std::size_t keep = 0;
    while (mass < top_p) mass += full[order[keep++]];
    for (std::size_t i = 0; i < keep; ++i) want[order[i]] = full[order[i]] / mass;
    SamplingParams p;
    p.top_p = top_p;
    Sampler s(p, {}, 64);
    auto dist = s.distribution(l.data());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
      EXPECT_NEAR(dist[i], want[i], 1e-12) << "top_p " << top_p << " token " << i;
      kept += dist[i] > 0;
    }
    EXPECT_EQ(kept, keep);
    expect_frequencies(p, l, want);
  }
}

TEST(Sampler, TopPOverALargeVocabularySortsBeyondTheFirstGuess) {
  // A flat distribution over 5000 tokens: the nucleus is far more than 1024.
  std::vector<float> l(5000, 0.0f);
  SamplingParams p;
  p.top_p = 0.5;
  Sampler s(p, {}, 5000);
  auto dist = s.distribution(l.data());
  EXPECT_EQ(std::count_if(dist.begin(), dist.end(), [](double x) { return x > 0; }), 2500);
  EXPECT_GT(dist[0], 0);       // ties keep the lower ids
  EXPECT_EQ(dist[4999], 0.0);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTop) {
  const auto l = test_logits();
  auto full = softmax(l, 1.0);
  const double top = *std::max_element(full.begin(), full.end());
  std::vector<double> want(l.size(), 0.0);
  double mass = 0;
  for (std::size_t i = 0; i < l.size(); ++i)
    if (full[i] >= 0.1 * top) mass += full[i];
  for (std::size_t i = 0; i < l.size(); ++i)
    if (full[i] >= 0.1 * top) want[i] = full[i] / mass;
  SamplingParams p;
  p.min_p = 0.1;
  Sampler s(p, {}, 64);
  auto dist = s.distribution(l.data());
  for (std::size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(dist[i], want[i], 1e-12) << i;
}

TEST(Sampler, PenaltiesAndBiasMoveTheRightLogits) {
  // Greedy makes the effect visible: token 0 leads by 0.5 until penalised.
  std::vector<float> l{3.0f, 2.5f, -1.0f, 0.0f};
  SamplingParams rep;
  rep.temperature = 0;
  rep.repetition_penalty = 1.5;  // 3.0 / 1.5 = 2.0 < 2.5 once token 0 was seen
  EXPECT_EQ(Sampler(rep, {0}, 4).sample(l.data()).token, 1);
  EXPECT_EQ(Sampler(rep, {2}, 4).sample(l.data()).token, 0);

  SamplingParams presence;
  presence.temperature = 0;
  presence.presence_penalty = 0.6;  // applies to output tokens only
  Sampler sp(presence, {0}, 4);
  EXPECT_EQ(sp.sample(l.data()).token, 0);
  EXPECT_EQ(sp.sample(l.data()).token, 1);  // 3.0 - 0.6 < 2.5

  SamplingParams frequency;
  frequency.temperature = 0;
  frequency.frequency_penalty = 0.3;  // 3.0 - 0.3 n: token 0 twice, then 2.4 < 2.5
  Sampler sf(frequency, {}, 4);
  EXPECT_EQ(sf.sample(l.data()).token, 0);
  EXPECT_EQ(sf.sample(l.data()).token, 0);
  EXPECT_EQ(sf.sample(l.data()).token, 1);

  SamplingParams bias;
  bias.temperature = 0;
  bias.logit_bias = {{2, 5.0f}};
  EXPECT_EQ(Sampler(bias, {}, 4).sample(l.data()).token, 2);
  bias.logit_bias = {{0, -100.0f}};
  EXPECT_EQ(Sampler(bias, {}, 4).sample(l.data()).token, 1);
}

TEST(Sampler, NegativeLogitsArePenalisedByMultiplying) {
  std::vector<float> l{-1.0f, -1.2f};
  SamplingParams rep;
  rep.temperature = 0;
  rep.repetition_penalty = 1.5;  // -1.0 * 1.5 = -1.5 < -1.2
  EXPECT_EQ(Sampler(rep, {0}, 2).sample(l.data()).token, 1);
}

TEST(Sampler, TheSameSeedGivesTheSameSamples) {
  const auto l = test_logits();
  SamplingParams p;
  p.seed = 42;
  Sampler a(p, {}, 64), b(p, {}, 64);
  std::vector<int> sa, sb;
  for (int i = 0; i < 200; ++i) {
    sa.push_back(a.sample(l.data()).token);
    sb.push_back(b.sample(l.data()).token);
  }
  EXPECT_EQ(sa, sb);
  p.seed = 43;
  Sampler c(p, {}, 64);
  std::vector<int> sc;
  for (int i = 0; i < 200; ++i) sc.push_back(c.sample(l.data()).token);
  EXPECT_NE(sa, sc);
}

TEST(Sampler, LogprobsAreOfTheRawDistributionWithTopAlternatives) {
  const auto l = test_logits();
  SamplingParams p;
  p.temperature = 0.5;
  p.logprobs = 3;
  p.seed = 7;
  Sampler s(p, {}, 64);
  SampleResult r = s.sample(l.data());
  auto full = softmax(l, 1.0);
  auto order = by_probability(full);
  EXPECT_NEAR(r.logprob.logprob, std::log(full[r.token]), 1e-5);
  ASSERT_EQ(r.logprob.top.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.logprob.top[i].token, static_cast<std::int32_t>(order[i]));
    EXPECT_NEAR(r.logprob.top[i].logprob, std::log(full[order[i]]), 1e-5);
  }
}

TEST(SamplingParams, OutOfRangeValuesAreRejectedByName) {
  auto rejects = [](SamplingParams p, const std::string& field) {
    try {
      validate_sampling_params(p, 100);
      ADD_FAILURE() << "accepted bad " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SamplingParams p;
  p.temperature = -1;
  rejects(p, "temperature");
  p = {};
  p.temperature = NAN;
  rejects(p, "temperature");
  p = {};
  p.top_p = 0;
  rejects(p, "top_p");
  p = {};
  p.top_k = -2;
  rejects(p, "top_k");
  p = {};
  p.min_p = 1.5;
  rejects(p, "min_p");
  p = {};
  p.repetition_penalty = 0;
  rejects(p, "repetition_penalty");
  p = {};
  p.presence_penalty = 2.5;
  rejects(p, "presence_penalty");
  p = {};
  p.frequency_penalty = -3;
  rejects(p, "frequency_penalty");
  p = {};
  p.logprobs = 21;
  rejects(p, "logprobs");
  p = {};
  p.logit_bias = {{100, 1.0f}};
  rejects(p, "logit_bias");
  p = {};
  p.logit_bias = {{3, 101.0f}};
  rejects(p, "logit_bias");
}

TEST(Sampler, NonFiniteLogitsAreAnErrorNotACrash) {
  std::vector<float> l(8, NAN);
  SamplingParams p;
  p.seed = 1;
  Sampler s(p, {}, 8);
  EXPECT_THROW(s.sample(l.data()), Error);
}

}  // namespace
}  // namespace arle::engine
