#include "engine_test_util.h"

#include <gtest/gtest.h>

namespace arle::testing {

const FixtureModel& fixture_model(const std::string& name) {
  static std::map<std::string, FixtureModel> models;
  auto it = models.find(name);
  if (it != models.end()) return it->second;
  const std::string dir = std::string(ARLE_TEST_FIXTURES) + "/models/" + name;
  FixtureModel m{model::load_causal_lm(dir), text::Tokenizer::load(dir)};
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

void drain(engine::EngineCore& core) {
  for (int steps = 0; !core.idle(); ++steps) {
    ASSERT_LT(steps, 100000) << "the engine does not finish";
    core.step();
    core.check_invariants();
  }
}

}  // namespace arle::testing
