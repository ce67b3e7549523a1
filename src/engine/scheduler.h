#pragma once
// Scheduler: decides each step's rows. Running sequences come first, oldest
// admission first: a decoding sequence takes one row, a prefilling one a
// chunk of what is left of the budget (chunked prefill in a mixed batch).
// Then waiting sequences are admitted in (priority, arrival) order while the
// token budget, --max-num-seqs and free pages allow; the radix cache is
// matched first so a cached prefix costs neither rows nor pages (for hybrid
// models, it resumes from a state snapshot; a prompt's prefill then ends a
// chunk at its last page boundary so that a snapshot can be taken there,
// see EngineCore::step). When a
// running sequence cannot get a page, the most recently admitted sequence is
// preempted: its pages are freed and it waits to be recomputed.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/radix_cache.h"
#include "engine/sequence.h"
#include "engine/state_pool.h"

namespace arle::engine {

struct SchedulerConfig {
  std::int64_t max_batched_tokens = 2048;  // rows per step
  std::int64_t max_num_seqs = 128;         // running sequences
  bool prefix_cache = true;
};

struct ScheduledChunk {
  Sequence* sequence;
  std::int64_t begin, end;  // token positions computed this step
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, KvPool& pool, RadixCache& cache, StatePool& states)
      : config_(config), pool_(pool), cache_(cache), states_(states) {}

  void add_waiting(Sequence* s);
  // Starts a sequence that shares another's computed pages (n > 1 samples)
  // and, for hybrid models, a copy of its recurrent state in a slot the
  // parent reserved at admission.
  void add_running_fork(Sequence* s, Sequence& parent);
  std::vector<ScheduledChunk> schedule();
  // Frees a sequence's pages and state slot and takes it off every queue.
  void remove(Sequence* s);

  const std::deque<Sequence*>& waiting() const { return waiting_; }
  const std::vector<Sequence*>& running() const { return running_; }
  std::int64_t preemptions() const { return preemptions_; }
  // Hybrid models: the page boundaries of a sequence's prefill where the
  // prefix cache keeps state snapshots (a chunk ends at each): the last one
  // at or before the request's snapshot_at, and the last one of its tokens.
  std::vector<std::int64_t> snapshot_points(const Sequence& s) const;
  bool prefix_cache() const { return config_.prefix_cache; }

 private:
  // Grows the page table to hold positions [0, upto) and makes the page that
  // position `s->computed` falls in writable. False when pages ran out.
  bool ensure_pages(Sequence* s, std::int64_t upto);
  std::int32_t allocate_page();
  // How many cached pages to evict when the pool is out of pages.
  std::int64_t eviction_batch() const;
  // Rows of `s` to run this step within `budget`.
  std::int64_t chunk_rows(const Sequence* s, std::int64_t budget) const;
  // A recurrent-state slot for a sequence, evicting cached snapshots when
  // none is free; -1 when running sequences hold them all.
  std::int32_t allocate_state(bool zeroed);
  // Gives back the sequence's pages and state slot; it has computed nothing.
  void release_memory(Sequence* s);
  void preempt(Sequence* victim);
  bool admit(Sequence* s, std::int64_t budget, std::vector<ScheduledChunk>& chunks);

  SchedulerConfig config_;
  KvPool& pool_;
  RadixCache& cache_;
  StatePool& states_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // admission order
  std::uint64_t admissions_ = 0;
  std::int64_t preemptions_ = 0;
};

}  // namespace arle::engine
