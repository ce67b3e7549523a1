#pragma once
// Which tensors a checkpoint of a given ModelConfig must hold, under which
// names and shapes. Checkpoint names are first mapped to canonical text-model
// names ("model.layers.0...", "lm_head.weight"): the "model.language_model."
// prefix of multimodal Qwen3.5 checkpoints is dropped, and vision tower,
// multi-token-prediction and rotary buffer tensors are set aside as ignored.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/checkpoint.h"
#include "model/model_config.h"

namespace arle::model {

struct ExpectedTensor {
  std::string name;  // canonical
  Shape shape;
  bool optional = false;  // e.g. lm_head.weight when embeddings are tied
};

struct MappedName {
  std::string canonical;      // empty when ignored
  std::string ignored_group;  // "vision", "mtp", "rotary_buffers" or empty
};

MappedName map_checkpoint_name(std::string_view checkpoint_name);

// `fused_expert_layers`: MoE layers whose experts are stored as stacked
// experts.gate_up_proj / experts.down_proj instead of one tensor per expert.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config,
                                             const std::vector<bool>& fused_expert_layers = {});

struct ShapeMismatch {
  std::string name;
  Shape expected;
  Shape actual;
};

struct WeightReport {
  std::vector<std::string> missing;     // canonical names absent from the checkpoint
  std::vector<std::string> unexpected;  // checkpoint names the architecture does not use
  std::vector<ShapeMismatch> mismatched;
  std::map<std::string, std::int64_t> ignored;  // group -> tensor count
  std::map<std::string, std::string> canonical_to_checkpoint;
  bool complete() const { return missing.empty() && mismatched.empty(); }
};

WeightReport check_weights(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace arle::model
