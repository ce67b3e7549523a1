// The engine's device-sampling path on the CPU: the Sampler's device rows
// carry the same adjustments and draws as its own sampling, the reference a
// device is held to keeps the Sampler's distribution, and an engine whose
// model samples "on its device" gives greedy outputs equal to the host path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "device_sampling_reference.h"
#include "engine/engine.h"
#include "engine/random.h"
#include "engine/sampler.h"
#include "engine_test_util.h"

namespace arle::testing {
namespace {

using engine::Sampler;
using engine::SamplingParams;

const model::TokenAdjustment* find(const model::SamplingRow& row, std::int32_t token) {
  for (const auto& a : row.adjustments) {
    if (a.token == token) return &a;
  }
  return nullptr;
}

TEST(DeviceRow, MergesBansBiasAndPenaltiesOncePerToken) {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_k = 40;
  p.top_p = 0.9;
  p.min_p = 0.05;
  p.seed = 11;
  p.repetition_penalty = 1.3;
  p.presence_penalty = 0.5;
  p.frequency_penalty = 0.2;
  p.logit_bias = {{5, 2.0f}, {7, -1.0f}};
  p.logprobs = 3;
  Sampler s(p, {5, 9, 9, 11}, 64);
  s.accept({9, 0.0f, {}});
  s.accept({12, 0.0f, {}});
  s.accept({12, 0.0f, {}});
  const model::SamplingRow row = s.device_row(3, {2, 5});
  EXPECT_EQ(row.logit_row, 3);
  EXPECT_FLOAT_EQ(row.temperature, 0.7f);
  EXPECT_EQ(row.top_k, 40);
  EXPECT_FLOAT_EQ(row.top_p, 0.9f);
  EXPECT_FLOAT_EQ(row.min_p, 0.05f);
  EXPECT_EQ(row.logprobs, 3);
  ASSERT_EQ(row.adjustments.size(), 6u);  // 2 5 7 9 11 12, sorted
  for (std::size_t i = 1; i < row.adjustments.size(); ++i) {
    EXPECT_LT(row.adjustments[i - 1].token, row.adjustments[i].token);
  }
  EXPECT_TRUE(find(row, 2)->banned);
  EXPECT_FALSE(find(row, 2)->seen);
  EXPECT_TRUE(find(row, 5)->banned && find(row, 5)->seen);
  EXPECT_FLOAT_EQ(find(row, 5)->bias, 2.0f);
  EXPECT_FLOAT_EQ(find(row, 7)->bias, -1.0f);
  EXPECT_EQ(find(row, 9)->count, 1);
  EXPECT_TRUE(find(row, 11)->seen);
  EXPECT_EQ(find(row, 11)->count, 0);
  EXPECT_EQ(find(row, 12)->count, 2);
  // The draw is the request's next uniform, as sample() would take it.
  engine::Random same(11);
  EXPECT_FLOAT_EQ(row.uniform, static_cast<float>(same.uniform()));
}

TEST(DeviceRow, GreedyTakesNoDrawAndNoPenaltyListsWhenOff) {
  SamplingParams p;
  p.temperature = 0;
  p.seed = 3;
  Sampler greedy(p, {1, 2, 3}, 16);
  const model::SamplingRow row = greedy.device_row(0);
  EXPECT_EQ(row.temperature, 0.0f);
  EXPECT_TRUE(row.adjustments.empty());  // no penalties: the prompt is not listed
  EXPECT_EQ(row.logprobs, -1);
}

// The reference a device is tested against keeps exactly what the Sampler
// keeps (on logits without ties), after the same adjustments.
TEST(DeviceReference, KeepsTheSamplersDistribution) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int trial = 0; trial < 40; ++trial) {
    const std::int64_t vocab = 50 + trial * 37;
    std::vector<float> logits(static_cast<std::size_t>(vocab));
    for (float& l : logits) l = normal(rng);
    SamplingParams p;
    p.temperature = 0.3 + 0.1 * (trial % 12);
    p.top_k = trial % 3 == 0 ? 0 : 1 + trial % 50;
    p.top_p = trial % 4 == 0 ? 1.0 : 0.5 + 0.1 * (trial % 5);
    p.min_p = trial % 5 == 0 ? 0.1 : 0.0;
    p.repetition_penalty = trial % 2 ? 1.2 : 1.0;
    p.presence_penalty = trial % 3 == 1 ? 0.4 : 0.0;
    p.frequency_penalty = trial % 3 == 2 ? -0.3 : 0.0;
    p.logit_bias = {{static_cast<std::int32_t>(trial % vocab), 1.5f}};
    p.seed = static_cast<std::uint64_t>(trial);
    std::vector<std::int32_t> prompt;
    for (int i = 0; i < 20; ++i) prompt.push_back(static_cast<std::int32_t>(rng() % vocab));
    Sampler s(p, prompt, vocab);
    for (int i = 0; i < 5; ++i) s.accept({static_cast<std::int32_t>(rng() % vocab), 0.0f, {}});
    const std::vector<double> want = s.distribution(logits.data());
    const model::SamplingRow row = s.device_row(0);
    const std::vector<double> got = kept_distribution(adjusted_logits(logits.data(), vocab, row), row);
    for (std::int64_t i = 0; i < vocab; ++i) ASSERT_NEAR(got[i], want[i], 1e-6) << "trial " << trial << " token " << i;
  }
}

engine::Request greedy_request(std::vector<std::int32_t> prompt) {
  engine::Request r;
  r.prompt_ids = std::move(prompt);
  r.max_tokens = 24;
  r.sampling.temperature = 0;
  r.sampling.logprobs = 2;
  r.eos_token_ids = {2};
  return r;
}

// Greedy outputs through the device path equal the host path's, with every
// adjustment in play: bans (min_tokens), bias and the three penalties.
TEST(DeviceSamplingEngine, GreedyOutputsEqualTheHostPath) {
  std::vector<engine::Request> requests;
  requests.push_back(greedy_request({1, 403, 261, 370}));
  engine::Request r = greedy_request({1, 403, 261, 370, 5, 5, 5});
  r.sampling.repetition_penalty = 1.4;
  requests.push_back(r);
  r.sampling.presence_penalty = 1.0;
  r.sampling.frequency_penalty = 0.5;
  requests.push_back(r);
  r = greedy_request({1, 403});
  r.sampling.logit_bias = {{261, 3.0f}, {370, -2.0f}};
  r.min_tokens = 10;
  requests.push_back(r);
  r.n = 3;  // three greedy samples, started from one set of logits
  requests.push_back(r);
  engine::EngineConfig config;
  config.kv_pages = 64;
  const FixtureModel& host = fixture_model("stories260K");
  const FixtureModel& device = fixture_model("stories260K+device-sampling");
  engine::Engine host_engine(*host.model, *host.tokenizer, config);
  engine::Engine device_engine(*device.model, *device.tokenizer, config);
  const std::vector<engine::RequestResult> want = engine::run_all(host_engine, requests);
  const std::vector<engine::RequestResult> got = engine::run_all(device_engine, requests);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].samples.size(), want[i].samples.size());
    for (std::size_t k = 0; k < want[i].samples.size(); ++k) {
      EXPECT_EQ(got[i].samples[k].token_ids, want[i].samples[k].token_ids) << "request " << i;
      ASSERT_EQ(got[i].samples[k].logprobs.size(), want[i].samples[k].logprobs.size());
      for (std::size_t t = 0; t < want[i].samples[k].logprobs.size(); ++t) {
        EXPECT_EQ(got[i].samples[k].logprobs[t].logprob, want[i].samples[k].logprobs[t].logprob);
        EXPECT_EQ(got[i].samples[k].logprobs[t].top.size(), 2u);
      }
    }
  }
}

}  // namespace
}  // namespace arle::testing
