#pragma once
// Test helpers for the engine: fixture models loaded once, requests run one
// at a time through engine::generate (the reference), and an EngineCore
// driven step by step.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/generate.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::testing {

struct FixtureModel {
  std::unique_ptr<model::CausalLm> model;
  std::unique_ptr<text::Tokenizer> tokenizer;
};

// A fixture by name; "<name>+device-sampling" wraps it in HostSamplingModel
// (the engine's device-sampling path on the CPU).
const FixtureModel& fixture_model(const std::string& name);

// The request alone, through the single-sequence loop (no scheduler, no cache).
engine::GenerateOutput run_alone(const FixtureModel& m, const engine::Request& r, int sample = 0);

// Logprobs equal bit for bit, token ids and top alternatives included.
bool same_logprobs(const std::vector<engine::TokenLogprob>& a, const std::vector<engine::TokenLogprob>& b);

// `count` requests of random ids (BOS 1, EOS 2) with random sampling
// parameters; some prompts extend an earlier one, so the prefix cache has
// work.
std::vector<engine::Request> random_requests(int count, std::int64_t vocab, std::uint32_t seed, int max_prompt = 60,
                                             int max_output = 24);

// Every sample of every request equals the request run alone, bit for bit.
void expect_same_as_alone(const FixtureModel& m, const std::vector<engine::Request>& requests,
                          const std::vector<engine::RequestResult>& results);

// An engine of `pages` KV pages, `batch_tokens` rows a step, 32 sequences.
engine::EngineConfig small_config(std::int64_t pages, std::int64_t batch_tokens = 64, bool cache = true);

// Steps an EngineCore until idle, checking invariants after every step.
void drain(engine::EngineCore& core);

}  // namespace arle::testing
