#pragma once
// CausalLm: a loaded language model that turns a ForwardBatch into logits,
// reading and writing K/V through a PagedKvCache. One implementation per
// architecture family (DecoderLm: Llama, Qwen2, Qwen3, Qwen3-MoE); the engine
// and every command see only this interface.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/forward_batch.h"
#include "model/generation_config.h"
#include "model/model_config.h"
#include "model/paged_kv_cache.h"
#include "model/sampling_row.h"
#include "tensor/tensor.h"

namespace arle::model {

class CausalLm {
 public:
  virtual ~CausalLm() = default;
  virtual const ModelConfig& config() const = 0;
  // float32 logits [batch.logit_rows.size(), vocab_size]. Throws
  // kInvalidArgument for a batch that does not fit the model or the cache.
  virtual Tensor forward(const ForwardBatch& batch, PagedKvCache& cache) = 0;
  // Bytes of weights held in memory.
  virtual std::size_t weight_bytes() const = 0;
  // Where it runs, for reports: "cpu", or the GPU's name and index.
  virtual std::string device_name() const { return "cpu"; }
  // How this backend keeps KV pages (default: float32 in CPU memory).
  virtual KvStorage kv_storage() const { return {}; }

  // Allocates what steps of up to `max_rows` rows from up to `max_sequences`
  // sequences need (activations, logits, metadata), so that serving never
  // allocates device memory mid-request and the KV pool can take the rest.
  // Throws kOutOfMemory. The CPU backend allocates per step: nothing to do.
  virtual void prepare(std::int64_t /*max_rows*/, std::int64_t /*max_sequences*/) {}
  // The memory of the device the model runs on, for the start-up memory
  // plan; nullopt on the CPU.
  struct DeviceMemory {
    std::uint64_t total = 0, free = 0;  // the device's, now
    std::uint64_t workspace = 0;        // held by prepare() and the GEMM library
  };
  virtual std::optional<DeviceMemory> device_memory() const { return std::nullopt; }

  // Whether forward_and_sample() picks tokens on the model's device, which
  // saves copying whole logits rows back every step.
  virtual bool samples_on_device() const { return false; }
  struct StepOutput {
    Tensor logits;                      // float32 [host_rows.size(), vocab] on the host
    std::vector<TokenLogprob> sampled;  // per SamplingRow; logprob and top filled when asked
  };
  // forward(), then the device's token for each of `sampled` (distinct
  // logits rows), and host logits only for `host_rows` (indices into
  // batch.logit_rows). Throws kUnsupported unless samples_on_device().
  virtual StepOutput forward_and_sample(const ForwardBatch& batch, PagedKvCache& cache,
                                        const std::vector<std::int32_t>& host_rows,
                                        const std::vector<SamplingRow>& sampled);
};

// Where the model runs. kAuto: CUDA when this build has it and a GPU runs
// its kernels, else the CPU (with a log line saying why).
enum class Backend { kAuto, kCpu, kCuda };
// "auto", "cpu" or "cuda"; throws kInvalidArgument otherwise.
Backend parse_backend(std::string_view name);

// Reads config.json and the safetensors weights of `model_dir`. Throws
// arle::Error: kNotFound, kInvalidModel (missing or misshapen tensors, a
// broken file) or kUnsupported (an architecture this backend cannot run, or
// kCuda on a build or machine without CUDA).
// `cuda_graphs`: decode steps on CUDA replay captured graphs (--no-cuda-graph turns it off).
std::unique_ptr<CausalLm> load_causal_lm(const std::filesystem::path& model_dir, Backend backend = Backend::kCpu,
                                         bool cuda_graphs = true);

}  // namespace arle::model
