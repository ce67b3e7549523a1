#include "cli/engine_options.h"

#include "common/error.h"
#include "common/units.h"

namespace arle::cli {

void add_engine_options(CLI::App& app, EngineOptions& o) {
  app.add_option("--max-batched-tokens", o.max_batched_tokens, "rows per engine step (default 2048)");
  app.add_option("--max-num-seqs", o.max_num_seqs, "sequences running at once (default 128)");
  app.add_option("--kv-cache-memory", o.kv_cache_memory,
                 "KV cache size, e.g. 512MiB, or a share of the memory free after the model, e.g. 40% (default: "
                 "--gpu-memory-fraction on a GPU, 1GiB on the CPU)");
  app.add_option("--gpu-memory-fraction", o.gpu_memory_fraction,
                 "share of the GPU's memory for weights, workspace and KV cache together (default 0.85)");
  app.add_option("--page-size", o.page_size, "tokens per KV page (default 16)");
  app.add_flag("--no-prefix-cache", o.no_prefix_cache, "do not reuse cached prompt prefixes");
  app.add_option("--state-snapshots", o.state_snapshots,
                 "hybrid models (Qwen3.5): recurrent-state snapshots the prefix cache keeps, each the size of one "
                 "sequence's state (default: --max-num-seqs; 0: no prefix reuse for them)");
  app.add_option("--max-waiting-requests", o.max_waiting_requests,
                 "requests that may wait for a slot; the server answers 503 beyond (default 1024, 0: no limit)");
}

std::int64_t max_model_len(const std::optional<std::int64_t>& flag, const model::ModelConfig& config) {
  const std::int64_t len = flag.value_or(config.max_position_embeddings);
  if (len < 1 || len > config.max_position_embeddings) {
    throw_error(ErrorCode::kInvalidArgument, "--max-model-len {} must be in [1, {}]", len,
                config.max_position_embeddings);
  }
  return len;
}

engine::EngineConfig engine_config(const EngineOptions& o) {
  if (o.max_batched_tokens < 1 || o.max_batched_tokens > (1 << 20)) {
    throw_error(ErrorCode::kInvalidArgument, "--max-batched-tokens {} must be in [1, 1048576]", o.max_batched_tokens);
  }
  if (o.max_num_seqs < 1 || o.max_num_seqs > 65536) {
    throw_error(ErrorCode::kInvalidArgument, "--max-num-seqs {} must be in [1, 65536]", o.max_num_seqs);
  }
  if (o.page_size < 1 || o.page_size > 1024) {
    throw_error(ErrorCode::kInvalidArgument, "--page-size {} must be in [1, 1024]", o.page_size);
  }
  if (!(o.gpu_memory_fraction > 0 && o.gpu_memory_fraction <= 1)) {
    throw_error(ErrorCode::kInvalidArgument, "--gpu-memory-fraction {} must be in (0, 1]", o.gpu_memory_fraction);
  }
  if (o.state_snapshots && (*o.state_snapshots < 0 || *o.state_snapshots > 65536)) {
    throw_error(ErrorCode::kInvalidArgument, "--state-snapshots {} must be in [0, 65536]", *o.state_snapshots);
  }
  if (o.max_waiting_requests < 0) {
    throw_error(ErrorCode::kInvalidArgument, "--max-waiting-requests {} must be 0 or more", o.max_waiting_requests);
  }
  engine::EngineConfig c;
  c.max_waiting_requests = o.max_waiting_requests;
  c.scheduler.max_batched_tokens = o.max_batched_tokens;
  c.scheduler.max_num_seqs = o.max_num_seqs;
  c.scheduler.prefix_cache = !o.no_prefix_cache;
  c.state_snapshots = o.state_snapshots.value_or(-1);
  c.page_size = o.page_size;
  c.gpu_memory_fraction = o.gpu_memory_fraction;
  const std::string& kv = o.kv_cache_memory;
  c.kv_cache_bytes = 0;  // the memory plan decides (engine/memory_plan.h)
  if (!kv.empty() && kv.back() == '%') {
    // A share of the memory free once the model is loaded (host RAM for the CPU backend).
    double percent = 0;
    try {
      percent = std::stod(kv.substr(0, kv.size() - 1));
    } catch (const std::exception&) {
      percent = -1;
    }
    if (!(percent > 0 && percent <= 95)) {
      throw_error(ErrorCode::kInvalidArgument, "--kv-cache-memory '{}' must be a size or a percentage in (0, 95]", kv);
    }
    c.kv_cache_percent = percent;
  } else if (!kv.empty()) {
    c.kv_cache_bytes = parse_bytes(kv, "--kv-cache-memory");
    if (c.kv_cache_bytes == 0) throw_error(ErrorCode::kInvalidArgument, "--kv-cache-memory must be more than 0");
  }
  return c;
}

}  // namespace arle::cli
