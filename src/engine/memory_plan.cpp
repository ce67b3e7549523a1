#include "engine/memory_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/system_info.h"
#include "common/units.h"
#include "engine/engine_core.h"
#include "engine/kv_pool.h"

namespace arle::engine {
namespace {

constexpr std::uint64_t kDefaultHostKvBytes = 1ull << 30;
// What a GPU keeps free beyond an explicit KV size: CUDA graphs, library
// handles and the driver allocate a little after start-up.
constexpr std::uint64_t kDeviceHeadroom = 256ull << 20;

}  // namespace

MemoryPlan plan_memory(model::CausalLm& model, const EngineConfig& c) {
  if (c.scheduler.max_batched_tokens < 1 || c.scheduler.max_num_seqs < 1) {
    throw_error(ErrorCode::kInvalidArgument, "max_batched_tokens and max_num_seqs must be positive");
  }
  if (!(c.gpu_memory_fraction > 0 && c.gpu_memory_fraction <= 1)) {
    throw_error(ErrorCode::kInvalidArgument, "the GPU memory fraction {} must be in (0, 1]", c.gpu_memory_fraction);
  }
  model.prepare(c.scheduler.max_batched_tokens, c.scheduler.max_num_seqs);
  MemoryPlan plan;
  plan.device = model.device_name();
  plan.weights = model.weight_bytes();
  const auto memory = model.device_memory();
  if (memory) {
    plan.workspace = memory->workspace;
    plan.device_total = memory->total;
  }
  const std::uint64_t free_now = memory ? memory->free : system_info().ram_available_bytes;
  const DType dtype = model.kv_storage().dtype;
  const std::uint64_t page_bytes =
      model::PagedKvCache::bytes_per_token(model.config(), dtype) * static_cast<std::uint64_t>(c.page_size);

  std::uint64_t budget = 0;
  bool state_on_top = false;  // hybrid models' recurrent state: beside the budget, or out of it
  if (c.kv_pages > 0) {
    plan.kv_rule = fmt::format("{} pages", c.kv_pages);
    budget = static_cast<std::uint64_t>(c.kv_pages) * page_bytes;
  } else if (c.kv_cache_bytes > 0) {
    plan.kv_rule = fmt::format("--kv-cache-memory {}", human_bytes(static_cast<double>(c.kv_cache_bytes)));
    budget = c.kv_cache_bytes;
  } else if (c.kv_cache_percent > 0) {
    plan.kv_rule =
        fmt::format("--kv-cache-memory {}% of {} free", c.kv_cache_percent, human_bytes(static_cast<double>(free_now)));
    budget = static_cast<std::uint64_t>(static_cast<double>(free_now) * c.kv_cache_percent / 100);
  } else if (memory) {
    // vLLM's rule: everything this engine holds on the card stays under the
    // fraction; what other processes hold counts against it too.
    const auto reserved = static_cast<std::uint64_t>(static_cast<double>(memory->total) * (1 - c.gpu_memory_fraction));
    plan.kv_rule = fmt::format("--gpu-memory-fraction {}", c.gpu_memory_fraction);
    if (memory->free <= reserved + page_bytes) {
      throw_error(ErrorCode::kInvalidArgument,
                  "--gpu-memory-fraction {} leaves no room for the KV cache: {} of {} is in use after the weights "
                  "({}) and the workspace ({}); raise the fraction or lower --max-batched-tokens",
                  c.gpu_memory_fraction, human_bytes(static_cast<double>(memory->total - memory->free)),
                  human_bytes(static_cast<double>(memory->total)), human_bytes(static_cast<double>(plan.weights)),
                  human_bytes(static_cast<double>(plan.workspace)));
    }
    budget = memory->free - reserved;
  } else {
    plan.kv_rule = "the CPU default";
    state_on_top = true;
    budget = kDefaultHostKvBytes;
  }
  const std::int64_t state_floats = model::PagedKvCache::state_floats_per_slot(model.config());
  if (state_floats > 0) {
    if (c.state_snapshots < -1) {
      throw_error(ErrorCode::kInvalidArgument, "--state-snapshots {} must be 0 or more", c.state_snapshots);
    }
    plan.state_snapshots = !c.scheduler.prefix_cache ? 0
                           : c.state_snapshots < 0   ? c.scheduler.max_num_seqs
                                                     : c.state_snapshots;
    plan.state_slots = c.scheduler.max_num_seqs + plan.state_snapshots;
    plan.state_bytes = static_cast<std::uint64_t>(plan.state_slots * state_floats) * sizeof(float);
    // The CPU default and a page count size the KV pool alone: the state
    // comes on top. A size, a share or a fraction bounds what the engine
    // holds, so the state comes out of it.
    if (c.kv_pages == 0 && !state_on_top) {
      if (budget <= plan.state_bytes) {
        throw_error(ErrorCode::kInvalidArgument,
                    "the KV cache budget of {} ({}) does not hold the recurrent state of {} sequences and {} "
                    "snapshots ({}); lower --max-num-seqs or --state-snapshots, or raise the budget",
                    human_bytes(static_cast<double>(budget)), plan.kv_rule, c.scheduler.max_num_seqs,
                    plan.state_snapshots, human_bytes(static_cast<double>(plan.state_bytes)));
      }
      budget -= plan.state_bytes;
    }
  }
  plan.kv_pages = c.kv_pages > 0 ? c.kv_pages : KvPool::pages_for_bytes(model.config(), budget, c.page_size, dtype);
  if (plan.kv_pages < 1) {
    throw_error(ErrorCode::kInvalidArgument, "the KV cache budget of {} bytes ({}) holds no page of {} tokens", budget,
                plan.kv_rule, c.page_size);
  }
  plan.kv_bytes = static_cast<std::uint64_t>(plan.kv_pages) * page_bytes;
  plan.kv_tokens = plan.kv_pages * c.page_size;
  if (memory && plan.kv_bytes + plan.state_bytes + kDeviceHeadroom > memory->free) {
    throw_error(ErrorCode::kInvalidArgument,
                "a KV cache of {} ({}) does not fit: {} is free on {} after the weights ({}) and the workspace ({})",
                human_bytes(static_cast<double>(plan.kv_bytes)), plan.kv_rule,
                human_bytes(static_cast<double>(memory->free)), plan.device,
                human_bytes(static_cast<double>(plan.weights)), human_bytes(static_cast<double>(plan.workspace)));
  }
  if (!memory && plan.state_bytes > 0 && plan.kv_bytes + plan.state_bytes > free_now) {
    throw_error(ErrorCode::kInvalidArgument,
                "the KV cache ({}) and the recurrent state of {} sequences and {} snapshots ({}) do not fit in the {} "
                "of RAM available; lower --max-num-seqs, --state-snapshots or --kv-cache-memory",
                human_bytes(static_cast<double>(plan.kv_bytes)), plan.state_slots - plan.state_snapshots,
                plan.state_snapshots, human_bytes(static_cast<double>(plan.state_bytes)),
                human_bytes(static_cast<double>(free_now)));
  }
  if (memory) plan.device_free_after = memory->free - plan.kv_bytes - plan.state_bytes;
  return plan;
}

std::string describe(const MemoryPlan& p) {
  std::string line =
      fmt::format("memory plan on {}: weights {}", p.device, human_bytes(static_cast<double>(p.weights)));
  if (p.device_total > 0) line += fmt::format(", workspace {}", human_bytes(static_cast<double>(p.workspace)));
  line += fmt::format(", KV cache {} ({} pages x {} = {} tokens, {})", human_bytes(static_cast<double>(p.kv_bytes)),
                      p.kv_pages, p.kv_tokens / std::max<std::int64_t>(p.kv_pages, 1), p.kv_tokens, p.kv_rule);
  if (p.state_slots > 0) {
    line += fmt::format(", recurrent state {} ({} sequences + {} prefix-cache snapshots)",
                        human_bytes(static_cast<double>(p.state_bytes)), p.state_slots - p.state_snapshots,
                        p.state_snapshots);
  }
  if (p.device_total > 0) {
    line += fmt::format("; {} of {} left free", human_bytes(static_cast<double>(p.device_free_after)),
                        human_bytes(static_cast<double>(p.device_total)));
  }
  return line;
}

}  // namespace arle::engine
