#include "model/causal_lm.h"

#include <chrono>

#include "common/error.h"
#include "common/log.h"
#include "common/units.h"
#include "kernels/cuda/cuda_probe.h"
#include "model/checkpoint.h"
#include "model/decoder_lm.h"
#include "model/hybrid_lm.h"
#if ARLE_WITH_CUDA
#include "model/cuda_decoder_lm.h"
#endif

namespace arle::model {

Backend parse_backend(std::string_view name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "cpu") return Backend::kCpu;
  if (name == "cuda") return Backend::kCuda;
  throw_error(ErrorCode::kInvalidArgument, "--backend '{}' must be auto, cpu or cuda", name);
}

CausalLm::StepOutput CausalLm::forward_and_sample(const ForwardBatch&, PagedKvCache&, const std::vector<std::int32_t>&,
                                                  const std::vector<SamplingRow>&) {
  throw_error(ErrorCode::kUnsupported, "this backend does not sample on its device");
}

namespace {

// kAuto and kCuda resolved against this build and machine.
Backend resolve_backend(Backend backend) {
  if (backend == Backend::kCpu) return backend;
  const kernels::cuda::CudaProbe probe = kernels::cuda::probe_cuda();
  if (!probe.compiled && backend == Backend::kAuto) return Backend::kCpu;  // a CPU build: nothing to say
  std::string why;
  if (!probe.compiled) {
    why = "this build has no CUDA backend";
  } else if (probe.gpus.empty()) {
    why = probe.error.empty() ? "no GPU is visible" : probe.error;
  } else if (!probe.gpus[0].kernel_ok) {
    why = probe.gpus[0].error;
  }
  if (why.empty()) return Backend::kCuda;
  if (backend == Backend::kCuda) throw_error(ErrorCode::kUnsupported, "--backend cuda: {}", why);
  log::info("running on the CPU: {}", why);
  return Backend::kCpu;
}

// The CPU model of a weights family, or CudaDecoderLm uploading the same
// weights (a CUDA build's backend is the only one that resolves to kCuda).
template <typename CpuModel, typename Weights>
std::unique_ptr<CausalLm> make_model(ModelConfig config, Weights weights, [[maybe_unused]] Backend backend,
                                     [[maybe_unused]] bool cuda_graphs) {
#if ARLE_WITH_CUDA
  if (backend == Backend::kCuda) return std::make_unique<CudaDecoderLm>(std::move(config), weights, 0, cuda_graphs);
#endif
  return std::make_unique<CpuModel>(std::move(config), std::move(weights));
}

}  // namespace

std::unique_ptr<CausalLm> load_causal_lm(const std::filesystem::path& model_dir, Backend requested,
                                         [[maybe_unused]] bool cuda_graphs) {
  const auto start = std::chrono::steady_clock::now();
  [[maybe_unused]] const Backend backend = resolve_backend(requested);
  ModelConfig config = load_model_config(model_dir);
  const bool hybrid = config.architecture == Architecture::kQwen3_5 || config.architecture == Architecture::kQwen3_5Moe;
  if (!hybrid && config.moe.shared_expert_intermediate_size > 0) {
    throw_error(ErrorCode::kUnsupported, "MoE with a shared expert is not supported for {}", config.architecture_name);
  }
  if (config.sliding_window > 0) {
    throw_error(ErrorCode::kUnsupported, "sliding-window attention ({} tokens) is not supported yet",
                config.sliding_window);
  }
  if (config.hidden_act != "silu" && config.hidden_act != "swish") {
    throw_error(ErrorCode::kUnsupported, "hidden_act '{}' is not supported (silu only)", config.hidden_act);
  }
  log::info("loading {} ({} layers, hidden {}) from {}", config.architecture_name, config.num_layers,
            config.hidden_size, model_dir.string());
  std::unique_ptr<CausalLm> model;
  if (hybrid) {
    HybridWeights weights = load_hybrid_weights(config, Checkpoint::open(model_dir));
    model = make_model<HybridLm>(std::move(config), std::move(weights), backend, cuda_graphs);
  } else {
    DecoderWeights weights = load_decoder_weights(config, Checkpoint::open(model_dir));
    model = make_model<DecoderLm>(std::move(config), std::move(weights), backend, cuda_graphs);
  }
  const char* where = backend == Backend::kCuda ? "bf16 weights on cuda:0" : "float32 weights";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("loaded {} of {} in {:.2f} s", human_bytes(model->weight_bytes()), where, seconds);
  return model;
}

}  // namespace arle::model
