#include "model/causal_lm.h"

#include <chrono>

#include "common/error.h"
#include "common/log.h"
#include "common/units.h"
#include "model/checkpoint.h"
#include "model/decoder_lm.h"

namespace arle::model {

std::unique_ptr<CausalLm> load_causal_lm(const std::filesystem::path& model_dir) {
  const auto start = std::chrono::steady_clock::now();
  ModelConfig config = load_model_config(model_dir);
  switch (config.architecture) {
    case Architecture::kLlama:
    case Architecture::kQwen2:
    case Architecture::kQwen3:
    case Architecture::kQwen3Moe:
      break;
    case Architecture::kQwen3_5:
    case Architecture::kQwen3_5Moe:
      throw_error(ErrorCode::kUnsupported, "{} (hybrid Gated DeltaNet) cannot run yet: only Llama, Qwen2, Qwen3 "
                                           "and Qwen3-MoE models can",
                  config.architecture_name);
  }
  if (config.moe.shared_expert_intermediate_size > 0) {
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
  DecoderWeights weights = load_decoder_weights(config, Checkpoint::open(model_dir));
  const std::size_t bytes = weights.bytes;
  auto model = std::make_unique<DecoderLm>(std::move(config), std::move(weights));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("loaded {} of float32 weights in {:.2f} s", human_bytes(bytes), seconds);
  return model;
}

}  // namespace arle::model
