#pragma once
// DecoderWeights: the tensors of a Llama / Qwen2 / Qwen3 / Qwen3-MoE decoder,
// converted once at load to contiguous float32 (the CPU backend's math type;
// 4 bytes per parameter, twice a bf16 checkpoint) and fused where one matmul
// can replace several: q/k/v into one [q + 2 kv, hidden] matrix and gate/up
// into one [2 inter, hidden]. The checkpoint's mapping is released after
// load, so resident memory is the float32 copy alone.

#include <vector>

#include "model/checkpoint.h"
#include "model/model_config.h"
#include "model/weight_reader.h"
#include "tensor/tensor.h"

namespace arle::model {

struct DecoderLayerWeights {
  Tensor input_norm, post_attention_norm;  // [hidden]
  Tensor qkv, qkv_bias;                    // [q + 2 kv, hidden], optional [q + 2 kv]
  Tensor o_proj, o_bias;                   // [hidden, q], optional [hidden]
  Tensor q_norm, k_norm;                   // [head_dim] when config.qk_norm
  MlpWeights mlp;                          // dense layers
  Tensor router;                           // [experts, hidden] in MoE layers
  std::vector<MlpWeights> experts;
};

struct DecoderWeights {
  Tensor embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  Tensor final_norm;
  Tensor lm_head;  // [vocab, hidden]; the embedding table itself when tied
  std::size_t bytes = 0;
};

// Throws kInvalidModel naming missing or misshapen tensors.
DecoderWeights load_decoder_weights(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace arle::model
