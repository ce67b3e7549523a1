#pragma once
// The engine's start-up memory plan: the model first allocates the buffers
// of its largest step (CausalLm::prepare: --max-batched-tokens rows,
// --max-num-seqs sequences), then the KV pool takes what the flags allow:
//   --kv-cache-memory SIZE      exactly that;
//   --kv-cache-memory N%        that share of the memory free now (the GPU's,
//                               or host RAM for the CPU backend);
//   neither, on a GPU           weights + workspace + KV fill
//                               --gpu-memory-fraction of the card (0.85);
//   neither, on the CPU         1 GiB.
// Hybrid models also hold a recurrent-state slot per --max-num-seqs
// sequence and one per prefix-cache snapshot (--state-snapshots, default
// one per sequence; none without the prefix cache): out of the budget of
// --kv-cache-memory and --gpu-memory-fraction, on top of the CPU default and
// of an explicit page count.
// A KV pool or state that does not fit (the device's memory, or host RAM on
// the CPU), or a fraction that leaves it no room, is an error here, at
// start-up, never mid-request. The plan is logged.

#include <cstdint>
#include <string>

#include "model/causal_lm.h"

namespace arle::engine {

struct EngineConfig;

struct MemoryPlan {
  std::string device;  // the model's device_name()
  std::uint64_t weights = 0, workspace = 0;
  std::uint64_t device_total = 0, device_free_after = 0;  // 0 on the CPU
  std::string kv_rule;                                    // which flag sized the pool, in words
  std::int64_t kv_pages = 0, kv_tokens = 0;
  std::uint64_t kv_bytes = 0;
  // Hybrid models: recurrent-state slots, one per running sequence
  // (max_num_seqs) and one per snapshot (state_snapshots of them); see above
  // for which budgets they come out of.
  std::int64_t state_slots = 0, state_snapshots = 0;
  std::uint64_t state_bytes = 0;
};

// Prepares the model and sizes the pool. Throws kInvalidArgument (a budget
// that holds no page, or does not fit the device) or kOutOfMemory.
MemoryPlan plan_memory(model::CausalLm& model, const EngineConfig& config);
// One line for the log: "memory plan on ...: weights ..., KV cache ...".
std::string describe(const MemoryPlan& plan);

}  // namespace arle::engine
