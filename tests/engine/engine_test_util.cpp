#include "engine_test_util.h"

#include <gtest/gtest.h>

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

void drain(engine::EngineCore& core) {
  for (int steps = 0; !core.idle(); ++steps) {
    ASSERT_LT(steps, 100000) << "the engine does not finish";
    core.step();
    core.check_invariants();
  }
}

}  // namespace arle::testing
