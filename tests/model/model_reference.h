#pragma once
// Test helper: a fixture model folder's transformers references
// (reference.json + reference.safetensors; see tests/fixtures/README.md).

#include <cstdint>
#include <string>
#include <vector>

#include "model/causal_lm.h"

namespace arle::testing {

struct ReferenceCase {
  std::string name;
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> greedy_ids;
  std::vector<double> greedy_top2_margin;
  std::vector<double> prompt_logprobs;
  std::vector<float> last_logits;      // [vocab]
  std::vector<std::int32_t> topk_ids;  // [positions, 16]
  std::vector<float> topk_logits;      // [positions, 16]
};

inline constexpr int kReferenceTopK = 16;

std::vector<ReferenceCase> load_reference_cases(const std::string& model_dir);
std::string fixture_model_dir(const std::string& name);
// Every fixture model with transformers references, dense and MoE decoders
// (every backend runs them).
std::vector<std::string> reference_fixture_names();
// The hybrid Qwen3.5 fixtures (the CPU backend runs them so far).
std::vector<std::string> hybrid_reference_fixture_names();
// A fixture's name as a gtest parameter name: "qwen3.5-tiny" -> "qwen3_5_tiny".
std::string fixture_param_name(std::string fixture);

// Logits of every prompt position: one sequence, all rows in one batch, in a
// KV cache of the model's own kind (CPU or GPU), with a fresh state slot for
// hybrid models.
Tensor prompt_logits(model::CausalLm& model, const std::vector<std::int32_t>& ids);

}  // namespace arle::testing
