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

// Steps an EngineCore until idle, checking invariants after every step.
void drain(engine::EngineCore& core);

}  // namespace arle::testing
