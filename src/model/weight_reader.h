#pragma once
// WeightReader: reads a checkpoint's tensors by canonical name
// (model/weight_names.h) as contiguous float32 copies for the CPU backend,
// counting the bytes kept, and the SwiGLU MLP / expert layouts every
// decoder family shares. Model-specific loaders (decoder_weights,
// hybrid_weights) build on it.

#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/model_config.h"
#include "model/weight_names.h"
#include "tensor/tensor.h"

namespace arle::model {

struct MlpWeights {
  Tensor gate_up;       // [2 inter, hidden]: gate rows, then up rows
  Tensor gate_up_bias;  // optional
  Tensor down;          // [hidden, inter]
  Tensor down_bias;     // optional
};

// check_weights(), throwing kInvalidModel with the first missing or
// misshapen tensors when the checkpoint does not fit the config.
WeightReport require_complete_weights(const ModelConfig& config, const Checkpoint& checkpoint);

class WeightReader {
 public:
  WeightReader(const Checkpoint& checkpoint, const WeightReport& report, std::size_t& bytes)
      : checkpoint_(checkpoint), report_(report), bytes_(bytes) {}

  bool has(const std::string& canonical) const { return report_.canonical_to_checkpoint.count(canonical) > 0; }
  // The named tensor as contiguous float32 (copied, so the file can close).
  Tensor get(const std::string& canonical);
  Tensor get_optional(const std::string& canonical) { return has(canonical) ? get(canonical) : Tensor{}; }
  // Row-wise concatenation of float32 matrices (or vectors) into one.
  Tensor concat_rows(const std::vector<Tensor>& parts);

  // prefix + {gate,up,down}_proj.{weight,bias}, gate and up fused.
  MlpWeights mlp(const std::string& prefix);
  // lm_head.weight, or the embedding table itself when the config ties
  // them or the checkpoint has no head.
  Tensor lm_head(const ModelConfig& config, const Tensor& embed_tokens);
  // `experts` experts under prefix ("model.layers.3.mlp."): one tensor set
  // per expert, or stacked experts.gate_up_proj [E, 2I, H] / down_proj
  // [E, H, I].
  std::vector<MlpWeights> experts(const std::string& prefix, std::int64_t experts);

 private:
  const Checkpoint& checkpoint_;
  const WeightReport& report_;
  std::size_t& bytes_;
};

}  // namespace arle::model
