#pragma once
// HybridWeights: the tensors of a Qwen3.5 / Qwen3.5-MoE text decoder, as
// contiguous float32 for the CPU backend. Layers are Gated DeltaNet
// (linear attention) or gated full attention, per config.layer_types; the
// feed-forward is a SwiGLU MLP, or routed experts plus a gated shared
// expert. Loading reorders two layouts so the forward pass slices columns:
//  - q_proj's per-head [query | gate] rows become [all queries | all gates],
//    fused with k and v as [queries | keys | values | gates];
//  - in_proj_qkv, in_proj_z, in_proj_b and in_proj_a fuse into one matrix.
// The (1 + w) RMSNorm weights are stored as read; the forward pass uses the
// offset form (see docs/qwen3_5_notes.md).

#include <vector>

#include "model/checkpoint.h"
#include "model/model_config.h"
#include "model/weight_reader.h"
#include "tensor/tensor.h"

namespace arle::model {

struct GatedDeltaNetWeights {
  Tensor in_proj;    // [conv_dim + value_dim + 2 Hv, hidden]: qkv, z, b, a
  Tensor conv;       // [conv_dim, kernel]
  Tensor neg_exp_a;  // [Hv]: -exp(A_log)
  Tensor dt_bias;    // [Hv]
  Tensor norm;       // [value_head_dim], plain weight
  Tensor out_proj;   // [hidden, value_dim]
};

struct GatedAttentionWeights {
  Tensor qkvg, qkvg_bias;  // [2 q + 2 kv, hidden] ([q + 2 kv] without attn_output_gate); bias optional
  Tensor o_proj;           // [hidden, q]
  Tensor q_norm, k_norm;   // [head_dim], (1 + w)
};

struct HybridLayerWeights {
  LayerType type = LayerType::kFullAttention;
  Tensor input_norm, post_attention_norm;  // [hidden], (1 + w)
  GatedDeltaNetWeights linear;             // linear-attention layers
  GatedAttentionWeights attention;         // full-attention layers
  MlpWeights mlp;                          // dense models
  Tensor router;                           // [experts, hidden] (MoE)
  std::vector<MlpWeights> experts;
  MlpWeights shared_expert;
  Tensor shared_expert_gate;  // [1, hidden]
};

struct HybridWeights {
  Tensor embed_tokens;  // [vocab, hidden]
  std::vector<HybridLayerWeights> layers;
  Tensor final_norm;  // (1 + w)
  Tensor lm_head;     // [vocab, hidden]; the embedding table itself when tied
  std::size_t bytes = 0;
};

// Throws kInvalidModel naming missing or misshapen tensors.
HybridWeights load_hybrid_weights(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace arle::model
