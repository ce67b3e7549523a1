#pragma once
// EngineCore: the engine's single-threaded heart. add() queues a request,
// step() runs one scheduled batch (schedule -> forward -> sample -> outputs)
// and streams deltas into the requests' handles. Engine runs it on its own
// thread; tests drive it step by step.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/memory_plan.h"
#include "engine/metrics.h"
#include "engine/model_runner.h"
#include "engine/radix_cache.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "engine/state_pool.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::engine {

struct EngineConfig {
  SchedulerConfig scheduler;
  std::int64_t page_size = model::kDefaultPageSize;
  // The KV pool (memory_plan.h): kv_pages when set, else kv_cache_bytes,
  // else kv_cache_percent of the free memory, else the GPU fraction.
  std::int64_t kv_pages = 0;
  std::size_t kv_cache_bytes = 256u << 20;  // --kv-cache-memory as a size
  double kv_cache_percent = 0;              // --kv-cache-memory as a share
  double gpu_memory_fraction = 0.85;        // --gpu-memory-fraction
  std::int64_t max_waiting_requests = 0;    // Engine::try_submit's queue limit; 0: none
  // Hybrid models: recurrent-state snapshots the prefix cache may hold
  // (--state-snapshots); -1: one per --max-num-seqs sequence.
  std::int64_t state_snapshots = -1;
};

struct EngineStats {
  std::int64_t steps = 0, rows = 0, prefill_rows = 0, decode_rows = 0;
  std::int64_t preemptions = 0;
  std::int64_t peak_used_pages = 0;
  std::int64_t cache_hit_tokens = 0, cache_queried_tokens = 0;  // prefix cache
  // Hybrid models: admissions that resumed from a state snapshot, snapshots
  // taken, and snapshots held now.
  std::int64_t snapshot_hits = 0, snapshots_taken = 0, snapshots = 0;
  // Where step() spends its wall time: scheduling, the model step (batch
  // building, forward, device sampling, waiting for the device) and outputs
  // (host sampling, detokenizing, stop checks, streaming).
  double schedule_seconds = 0, model_seconds = 0, output_seconds = 0;
  EngineMetrics metrics;
};

class EngineCore {
 public:
  EngineCore(model::CausalLm& model, const text::Tokenizer& tokenizer, EngineConfig config);
  ~EngineCore();

  // Validates and queues; a request that can never run gets an "error"
  // delta at once (it is never queued).
  void add(std::shared_ptr<RequestHandle> handle, Request request);
  // Ends a request with finish_reason "abort" and frees its pages.
  void abort(std::uint64_t request_id);
  // Ends every request with finish_reason "error" (after a failed step).
  void abort_all(const std::string& error);
  // Aborts requests whose handles asked to cancel.
  void poll_cancellations();
  // One batch; false when there was nothing to run.
  bool step();
  bool idle() const { return requests_.empty(); }

  const KvPool& pool() const { return pool_; }
  // Hybrid models' recurrent-state slots not held by a sequence.
  std::int64_t free_state_slots() const { return states_.free_slots(); }
  const MemoryPlan& memory_plan() const { return plan_; }
  RadixCache& cache() { return cache_; }
  const EngineStats& stats() const { return stats_; }
  std::int64_t capacity_tokens() const { return pool_.num_pages() * pool_.page_size(); }
  // Throws kInternal when the pool, the cache and the sequences disagree:
  // every page's reference count equals its holders, a page written by a
  // running sequence belongs to it alone, cached pages are live.
  void check_invariants() const;

 private:
  struct Live {
    std::shared_ptr<RequestState> state;
    std::vector<std::unique_ptr<Sequence>> sequences;
    std::vector<Sequence*> forks;  // samples 1..n-1, started when sample 0 finishes its prompt
  };
  // Samples on the host from a logits row, then emit_token().
  void sample_into(Sequence& s, const float* logits);
  // Appends a sampled token and streams it, finishing the sequence on a stop.
  void emit_token(Sequence& s, SampleResult sampled);
  void finish(Sequence& s, const std::string& reason);
  void end_request(std::uint64_t id);
  // After a step: caches the pages a chunk filled and, for hybrid models at
  // a page boundary, a snapshot of the sequence's state.
  void cache_computed(Sequence& s, const ScheduledChunk& chunk);

  model::CausalLm& model_;
  const text::Tokenizer& tokenizer_;
  EngineConfig config_;
  MemoryPlan plan_;  // before pool_: it sizes the pool
  KvPool pool_;
  StatePool states_;  // hybrid models' state slots: sequences' and snapshots'
  RadixCache cache_;
  Scheduler scheduler_;
  ModelRunner runner_;
  std::map<std::uint64_t, Live> requests_;
  std::uint64_t next_id_ = 1;
  EngineStats stats_;
};

}  // namespace arle::engine
