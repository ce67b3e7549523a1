#pragma once
// CudaDecoderLm: DecoderLm's architecture (Llama, Qwen2, Qwen3 dense) and
// HybridLm's (Qwen3.5: Gated DeltaNet layers with their recurrent state in
// the cache's slots, gated attention, (1 + w) norms, a gated shared expert)
// on the GPU in bf16 with float32 accumulation: weights uploaded once from
// the loaded DecoderWeights or HybridWeights, cuBLASLt GEMMs, a float32
// residual stream with fused
// add + RMSNorm, per-head
// norm + RoPE, paged attention over a bf16 KV pool in GPU memory, float32
// logits for the rows that need them, sampled on the GPU (forward_and_sample)
// or copied back for the engine's sampler.
// MoE layers route, group and run their experts' GEMMs on the device. Built only with ARLE_CUDA. Activations live
// in a workspace sized by prepare() for the engine's largest step (or grown
// to the largest step seen, without it) and reused; a step's
// metadata (token ids, logit rows, rotary cos/sin, sampling rows, page
// tables, positions) goes up in one copy. All work runs on the model's own
// stream. Decode steps (every row its sequence's only one, all sampled) of
// dense and MoE models replay CUDA graphs per batch-size bucket
// (cuda_graphs.h), padded with rows at position -1; prefill runs eagerly.
// Hybrid models' decode graphs include their state batch (padding rows are
// sequences without a state slot).

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/cuda/cublaslt_gemm.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gated_deltanet.h"
#include "model/causal_lm.h"
#include "model/cuda_graphs.h"
#include "model/cuda_sampling.h"
#include "model/decoder_weights.h"
#include "model/hybrid_weights.h"
#include "model/rope_table.h"

namespace arle::model {

class CudaDecoderLm final : public CausalLm {
 public:
  CudaDecoderLm(ModelConfig config, const DecoderWeights& weights, int device = 0, bool cuda_graphs = true);
  CudaDecoderLm(ModelConfig config, const HybridWeights& weights, int device = 0, bool cuda_graphs = true);
  ~CudaDecoderLm() override;

  const ModelConfig& config() const override { return config_; }
  Tensor forward(const ForwardBatch& batch, PagedKvCache& cache) override;
  std::size_t weight_bytes() const override { return bytes_; }
  KvStorage kv_storage() const override;
  void prepare(std::int64_t max_rows, std::int64_t max_sequences) override;
  std::optional<DeviceMemory> device_memory() const override;
  bool samples_on_device() const override { return true; }
  std::string device_name() const override;
  // Decode graphs captured so far (one per batch-size bucket used).
  std::int64_t captured_graphs() const { return graphs_.captured(); }
  StepOutput forward_and_sample(const ForwardBatch& batch, PagedKvCache& cache,
                                const std::vector<std::int32_t>& host_rows,
                                const std::vector<SamplingRow>& sampled) override;

 private:
  struct Mlp {
    Tensor gate_up, gate_up_bias, down, down_bias;
  };
  // Gated DeltaNet: bf16 projections, float32 conv, gates and norm.
  struct LinearAttention {
    Tensor in_proj, conv, neg_exp_a, dt_bias, norm, out_proj;
  };
  struct Layer {
    LayerType type = LayerType::kFullAttention;
    Tensor input_norm, post_attention_norm, qkv, qkv_bias, o_proj, o_bias, q_norm, k_norm;
    Mlp mlp;
    Tensor router;  // MoE layers: [experts, hidden]
    std::vector<Mlp> experts;
    Tensor expert_gate_up, expert_down;  // device arrays of the experts' weight pointers
    Mlp shared;                          // Qwen3.5-MoE: the shared expert ...
    Tensor shared_gate;                  // ... scaled by sigmoid(x . shared_gate) ([1, hidden])
    LinearAttention linear;
  };
  // The stream, the GEMM plans and the embedding, final norm and head.
  void start(const Tensor& embed_tokens, const Tensor& final_norm, const Tensor& lm_head);
  // Uploads a MoE layer's experts and their pointer arrays (checking the
  // grouped kernels' limits).
  void add_experts(Layer& layer, const std::vector<MlpWeights>& experts);
  // A Gated DeltaNet layer of h into out (out_proj's output).
  void linear_attention(const Layer& layer, std::int64_t index, const kernels::cuda::StateBatch& state,
                        PagedKvCache& cache, const Tensor& h, const Tensor& out);
  // The shared expert of h, added into out scaled by its gate.
  void shared_expert(const Layer& layer, const Tensor& h, const Tensor& out);
  // Routed experts of `h` into `out`: routing on the device (the CPU's
  // softmax and top-k), grouped expert GEMMs over per-expert runs of rows,
  // then each row's experts summed in ascending expert id.
  void moe(const Layer& layer, const Tensor& h, const Tensor& out);
  Tensor upload(const Tensor& host);
  Tensor upload_f32(const Tensor& host);
  Mlp upload_mlp(const MlpWeights& mlp);

  // A step's inputs on the device: views into one metadata buffer.
  struct StepInputs {
    std::int64_t rows = 0, logit_rows = 0;  // padded counts
    Tensor meta, ids, logit_ids, cos, sin;
    kernels::cuda::PagedBatch paged;
    kernels::cuda::StateBatch state;  // hybrid models: sequences, their rows and state slots
    CudaSamplingLayout sampling;
    std::int64_t sampling_at = 0;  // word of `meta`
  };
  // Packs the step (padded to pad_to rows when > 0) and copies it into
  // `device_buffer` (grown when too small) on the stream.
  StepInputs stage(const ForwardBatch& batch, std::int64_t page_size, const std::vector<SamplingRow>& sampled,
                   std::int64_t pad_to, Tensor& device_buffer);
  // Enqueues the layers, the logits rows and the sampling on stream_; reads
  // only `in` and the workspace, so a CUDA graph can capture it. Logits rows
  // beyond the buffer run in slices; slice_done(first, end) may enqueue
  // copies of each slice (ws_.logits rows 0.. hold rows first..end).
  using SliceDone = std::function<void(std::int64_t first, std::int64_t end)>;
  void enqueue(const StepInputs& in, PagedKvCache& cache, const SliceDone& slice_done = {});
  bool graphable(const ForwardBatch& batch, const std::vector<std::int32_t>& host_rows,
                 const std::vector<SamplingRow>& sampled) const;
  // Buffers for steps of up to `rows` rows (and `logit_rows` logits rows,
  // until prepare() fixed that), and for `rows` sampled rows.
  void reserve(std::int64_t rows, std::int64_t logit_rows);
  void reserve_samples(std::int64_t rows);
  // The graph steps' metadata buffer, allocated on first use.
  const Tensor& graph_metadata();
  // Metadata words a step of `rows` rows needs (short of unusually many
  // sampling adjustments or page-table words).
  std::int64_t metadata_words(std::int64_t rows) const;

  struct Workspace {
    std::int64_t rows = 0, logit_rows = 0;
    std::uint64_t generation = 0;  // bumped on every reallocation (graphs bake the addresses)
    Tensor residual, h, qkv, attention, o, mlp_out, gate_up, act, attention_scratch;
    Tensor last, logits, metadata, samples;
    Tensor moe_router, moe_meta, moe_weights, moe_x, moe_gate_up, moe_act, moe_y;  // MoE layers' buffers
    Tensor shared_gate_up, shared_act, shared_logit;                               // shared experts'
    Tensor proj, mixed, beta, g, core, normed, delta_scratch;                      // Gated DeltaNet layers
    std::uint64_t bytes() const;                                                   // of every buffer above
  };
  // A graph step's sampling adjustments and page-table words must fit these
  // (else it runs eagerly).
  static constexpr std::int64_t kGraphAdjustments = 1 << 16, kGraphTableWords = 1 << 20;

  ModelConfig config_;
  int device_;
  std::vector<Layer> layers_;
  Tensor embed_tokens_, final_norm_, lm_head_;
  std::size_t bytes_ = 0;
  RopeTable rope_;
  std::unique_ptr<kernels::cuda::CublasLtGemm> gemm_;
  Workspace ws_;
  std::vector<std::int32_t> staging_;  // the step's metadata on the host
  CUstream_st* stream_ = nullptr;
  bool use_graphs_ = true;
  bool moe_ = false;
  bool hybrid_ = false;             // linear-attention layers: state slots
  bool chunked_delta_rule_ = true;  // prefill's delta rule in chunks (else token by token)
  bool norm_offset_ = false;        // RMSNorms in the (1 + w) form
  bool moe_normalize_ = false;
  bool prepared_ = false;  // prepare() sized the workspace: logits stay, steps slice
  CudaGraphs graphs_;
  Tensor graph_metadata_;  // graph steps' inputs: one fixed buffer, never reallocated
};

}  // namespace arle::model
