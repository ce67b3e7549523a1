#include "engine_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "device_sampling_reference.h"

namespace arle::testing {

const FixtureModel& fixture_model(const std::string& name) {
  static std::map<std::string, FixtureModel> models;
  auto it = models.find(name);
  if (it != models.end()) return it->second;
  // "<fixture>+device-sampling": the fixture behind HostSamplingModel.
  const std::string suffix = "+device-sampling";
  const bool wrapped = name.size() > suffix.size() && name.ends_with(suffix);
  const std::string dir =
      std::string(ARLE_TEST_FIXTURES) + "/models/" + (wrapped ? name.substr(0, name.size() - suffix.size()) : name);
  FixtureModel m{model::load_causal_lm(dir), text::Tokenizer::load(dir)};
  if (wrapped) m.model = std::make_unique<HostSamplingModel>(std::move(m.model));
  return models.emplace(name, std::move(m)).first->second;
}

engine::GenerateOutput run_alone(const FixtureModel& m, const engine::Request& r, int sample) {
  engine::GenerateRequest g;
  g.prompt_ids = r.prompt_ids;
  g.sampling = r.sampling;
  if (g.sampling.seed) g.sampling.seed = *g.sampling.seed + static_cast<std::uint64_t>(sample);
  g.max_tokens = r.max_tokens;
  g.stop = r.stop;
  g.stop_token_ids = r.stop_token_ids;
  if (!r.ignore_eos) g.stop_token_ids.insert(g.stop_token_ids.end(), r.eos_token_ids.begin(), r.eos_token_ids.end());
  g.prompt_logprobs = r.prompt_logprobs;
  return engine::generate(*m.model, *m.tokenizer, g);
}

bool same_logprobs(const std::vector<engine::TokenLogprob>& a, const std::vector<engine::TokenLogprob>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].token != b[i].token || std::memcmp(&a[i].logprob, &b[i].logprob, sizeof(float)) != 0) return false;
    if (a[i].top.size() != b[i].top.size()) return false;
    for (std::size_t j = 0; j < a[i].top.size(); ++j) {
      if (a[i].top[j].token != b[i].top[j].token ||
          std::memcmp(&a[i].top[j].logprob, &b[i].top[j].logprob, sizeof(float)) != 0)
        return false;
    }
  }
  return true;
}

std::vector<engine::Request> random_requests(int count, std::int64_t vocab, std::uint32_t seed, int max_prompt,
                                             int max_output) {
  std::mt19937 rng(seed);
  std::vector<engine::Request> out;
  for (int i = 0; i < count; ++i) {
    engine::Request r;
    const int len = 1 + static_cast<int>(rng() % max_prompt);
    // Some prompts extend an earlier one, so the prefix cache has work.
    r.prompt_ids = {1};
    if (i > 0 && rng() % 3 == 0) {
      const std::vector<std::int32_t>& earlier = out[rng() % out.size()].prompt_ids;
      if (earlier.size() < 150) r.prompt_ids = earlier;
    }
    for (int t = 0; t < len; ++t) r.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % (vocab - 3)));
    r.max_tokens = 1 + rng() % max_output;
    r.n = rng() % 6 == 0 ? 2 : 1;
    r.sampling.temperature = rng() % 3 == 0 ? 0.0 : 0.9;
    r.sampling.top_p = rng() % 2 ? 1.0 : 0.9;
    r.sampling.top_k = rng() % 2 ? 0 : 40;
    r.sampling.seed = rng();
    r.sampling.logprobs = static_cast<int>(rng() % 3);
    r.eos_token_ids = {2};
    r.cache_namespace = "test";
    out.push_back(std::move(r));
  }
  return out;
}

void expect_same_as_alone(const FixtureModel& m, const std::vector<engine::Request>& requests,
                          const std::vector<engine::RequestResult>& results) {
  ASSERT_EQ(requests.size(), results.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    for (int k = 0; k < requests[i].n; ++k) {
      engine::GenerateOutput alone = run_alone(m, requests[i], k);
      const engine::Completion& c = results[i].samples[static_cast<std::size_t>(k)];
      EXPECT_EQ(c.token_ids, alone.token_ids) << "request " << i << " sample " << k;
      EXPECT_EQ(c.text, alone.text) << "request " << i;
      EXPECT_EQ(c.finish_reason, alone.finish_reason) << "request " << i;
      EXPECT_TRUE(same_logprobs(c.logprobs, alone.logprobs)) << "request " << i;
    }
  }
}

engine::EngineConfig small_config(std::int64_t pages, std::int64_t batch_tokens, bool cache) {
  engine::EngineConfig c;
  c.kv_pages = pages;
  c.scheduler.max_batched_tokens = batch_tokens;
  c.scheduler.max_num_seqs = 32;
  c.scheduler.prefix_cache = cache;
  return c;
}

void drain(engine::EngineCore& core) {
  for (int steps = 0; !core.idle(); ++steps) {
    ASSERT_LT(steps, 100000) << "the engine does not finish";
    core.step();
    core.check_invariants();
  }
}

}  // namespace arle::testing
