#pragma once
// CudaDecoderLm: DecoderLm's architecture (Llama, Qwen2, Qwen3 dense) on the
// GPU in bf16 with float32 accumulation: weights uploaded once from the
// loaded DecoderWeights, cuBLASLt GEMMs, a float32 residual stream with fused
// add + RMSNorm, per-head
// norm + RoPE, paged attention over a bf16 KV pool in GPU memory, float32
// logits for the rows that need them, sampled on the GPU (forward_and_sample)
// or copied back for the engine's sampler.
// MoE layers route on the host (router logits come back, small) and run each
// expert's GEMMs over its rows. Built only with ARLE_CUDA. Activations live in a workspace that grows to
// the largest step seen and is reused; a step's metadata (token ids, page
// tables, positions, rotary cos/sin, logit rows) goes up in one copy. Decode
// is not captured in CUDA graphs yet.

#include <memory>
#include <vector>

#include "kernels/cuda/cublaslt_gemm.h"
#include "model/causal_lm.h"
#include "model/decoder_weights.h"
#include "model/rope_table.h"

namespace arle::model {

class CudaDecoderLm final : public CausalLm {
 public:
  CudaDecoderLm(ModelConfig config, const DecoderWeights& weights, int device = 0);

  const ModelConfig& config() const override { return config_; }
  Tensor forward(const ForwardBatch& batch, PagedKvCache& cache) override;
  std::size_t weight_bytes() const override { return bytes_; }
  KvStorage kv_storage() const override;
  bool samples_on_device() const override { return true; }
  StepOutput forward_and_sample(const ForwardBatch& batch, PagedKvCache& cache,
                                const std::vector<std::int32_t>& host_rows,
                                const std::vector<SamplingRow>& sampled) override;

 private:
  struct Mlp {
    Tensor gate_up, gate_up_bias, down, down_bias;
  };
  struct Layer {
    Tensor input_norm, post_attention_norm, qkv, qkv_bias, o_proj, o_bias, q_norm, k_norm;
    Mlp mlp;
    Tensor router;             // MoE layers: [experts, hidden]
    std::vector<Mlp> experts;
  };
  // Routed experts of `h` into `out`: routing on the host (the CPU's exact
  // top-k), expert GEMMs over their rows, then each row's experts summed in
  // ascending expert id.
  void moe(const Layer& layer, const Tensor& h, const Tensor& out);
  Tensor upload(const Tensor& host);
  // The step on the GPU up to float32 logits [logit rows, vocab] (a view of
  // the workspace). `extra` words ride along in the metadata copy, at word
  // `extra_at` of ws_.metadata.
  Tensor device_logits(const ForwardBatch& batch, PagedKvCache& cache, const std::vector<std::int32_t>& extra,
                       std::int64_t& extra_at);
  // Buffers for steps of up to `rows` rows (and `logit_rows` logits rows).
  void reserve(std::int64_t rows, std::int64_t logit_rows);

  struct Workspace {
    std::int64_t rows = 0, logit_rows = 0;
    Tensor residual, h, qkv, attention, o, mlp_out, gate_up, act, attention_scratch;
    Tensor last, logits, metadata, samples;
  };

  ModelConfig config_;
  int device_;
  std::vector<Layer> layers_;
  Tensor embed_tokens_, final_norm_, lm_head_;
  std::size_t bytes_ = 0;
  RopeTable rope_;
  std::unique_ptr<kernels::cuda::CublasLtGemm> gemm_;
  Workspace ws_;
  std::vector<std::int32_t> staging_;  // the step's metadata on the host
};

}  // namespace arle::model
