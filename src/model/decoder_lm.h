#pragma once
// DecoderLm: the pre-norm decoder shared by Llama, Qwen2 and Qwen3 (dense and
// MoE). Per layer:
//   h = x + o_proj(attention(rope(qk_norm(split(qkv_proj(rms_norm(x)))))))
//   x = h + mlp(rms_norm(h))      mlp: SwiGLU, or top-k routed SwiGLU experts
// Differences between the families are data, not code: q/k/v biases (Qwen2,
// Llama attention_bias), per-head q/k RMSNorm (Qwen3), head_dim decoupled
// from hidden/heads (Qwen3), tied or separate lm_head, MoE layers (Qwen3-MoE).

#include "model/causal_lm.h"
#include "model/decoder_weights.h"
#include "model/rope_table.h"

namespace arle::model {

class DecoderLm final : public CausalLm {
 public:
  DecoderLm(ModelConfig config, DecoderWeights weights);

  const ModelConfig& config() const override { return config_; }
  Tensor forward(const ForwardBatch& batch, PagedKvCache& cache) override;
  std::size_t weight_bytes() const override { return weights_.bytes; }

 private:
  ModelConfig config_;
  DecoderWeights weights_;
  RopeTable rope_;
};

}  // namespace arle::model
