#pragma once
// The engine flags shared by every command that runs the engine (bench and
// serve): --max-batched-tokens, --max-num-seqs, --kv-cache-memory,
// --gpu-memory-fraction, --page-size, --no-prefix-cache, --state-snapshots,
// --max-waiting-requests. --kv-cache-memory takes a size (512MiB) or a share
// of the memory free after the model (40%); unset, the memory plan sizes the
// KV cache (engine/memory_plan.h).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "engine/engine_core.h"

namespace arle::cli {

struct EngineOptions {
  std::int64_t max_batched_tokens = 2048;
  std::int64_t max_num_seqs = 128;
  std::string kv_cache_memory;  // empty: the memory plan's default
  double gpu_memory_fraction = 0.85;
  std::int64_t page_size = 16;
  bool no_prefix_cache = false;
  std::optional<std::int64_t> state_snapshots;  // unset: the engine's default
  std::int64_t max_waiting_requests = 1024;     // serve answers 503 beyond
};

void add_engine_options(CLI::App& app, EngineOptions& options);
// Throws kInvalidArgument for values out of range.
engine::EngineConfig engine_config(const EngineOptions& options);
// --max-model-len (serve and the agent): the flag, else the model's
// max_position_embeddings; kInvalidArgument outside [1, that].
std::int64_t max_model_len(const std::optional<std::int64_t>& flag, const model::ModelConfig& config);

}  // namespace arle::cli
