#pragma once
// HybridLm: Qwen3.5 and Qwen3.5-MoE on the CPU, following transformers 5.17's
// qwen3_5 / qwen3_5_moe modeling code (docs/qwen3_5_notes.md). Per layer,
// pre-norm with (1 + w) RMSNorms:
//   x = x + mixer(rms_norm(x)),  x = x + ffn(rms_norm(x))
// The mixer is, per config.layer_types:
//  - Gated DeltaNet (linear attention): in_proj -> causal conv1d + SiLU over
//    q, k, v -> L2-normalised q, k (q / sqrt(d_k)) -> the gated delta rule
//    with beta = sigmoid(b), g = -exp(A_log) softplus(a + dt_bias), value
//    heads grouped over key heads -> RMSNorm(o) * SiLU(z) -> out_proj. The
//    state and conv window live in the cache's state slot of the sequence
//    (prefill chunks and decode steps continue it).
//  - gated attention: q/k RMSNorm, partial NeoX RoPE, causal GQA over the
//    paged KV cache, output * sigmoid(gate), o_proj. Released configs carry
//    mrope_section: for text every position component is the token
//    position, so multimodal RoPE is ordinary partial RoPE here.
// The ffn is a SwiGLU MLP, or routed experts (always renormalised, as
// transformers does for Qwen3.5-MoE) plus sigmoid(shared_expert_gate(x)) *
// shared_expert(x).

#include "model/causal_lm.h"
#include "model/hybrid_weights.h"
#include "model/rope_table.h"

namespace arle::model {

class HybridLm final : public CausalLm {
 public:
  HybridLm(ModelConfig config, HybridWeights weights);

  const ModelConfig& config() const override { return config_; }
  Tensor forward(const ForwardBatch& batch, PagedKvCache& cache) override;
  std::size_t weight_bytes() const override { return weights_.bytes; }

 private:
  Tensor gated_deltanet(std::int64_t layer, const Tensor& x, const ForwardBatch& batch, PagedKvCache& cache) const;
  Tensor ffn(const HybridLayerWeights& layer, const Tensor& x) const;

  ModelConfig config_;
  HybridWeights weights_;
  RopeTable rope_;
};

}  // namespace arle::model
