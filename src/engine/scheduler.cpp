#include "engine/scheduler.h"

#include <algorithm>

#include "common/error.h"

namespace arle::engine {
namespace {

bool served_before(const Sequence* a, const Sequence* b) {
  const Request& ra = a->state->request;
  const Request& rb = b->state->request;
  if (ra.priority != rb.priority) return ra.priority < rb.priority;
  if (a->state->arrival != b->state->arrival) return a->state->arrival < b->state->arrival;
  return a->index < b->index;
}

}  // namespace

void Scheduler::add_waiting(Sequence* s) {
  s->status = SequenceStatus::kWaiting;
  waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), s, served_before), s);
}

void Scheduler::add_running_fork(Sequence* s, Sequence& parent) {
  if (parent.state_slot >= 0) {
    if (parent.fork_slots.empty()) throw_error(ErrorCode::kInternal, "a fork without a reserved state slot");
    s->state_slot = parent.fork_slots.back();
    parent.fork_slots.pop_back();
    pool_.cache().copy_state(parent.state_slot, s->state_slot);
  }
  s->page_table = parent.page_table;
  for (std::int32_t page : s->page_table) pool_.retain(page);
  s->computed = parent.computed;
  s->status = SequenceStatus::kRunning;
  s->admitted_at = ++admissions_;
  running_.push_back(s);
}

std::int64_t Scheduler::eviction_batch() const {
  // An eviction walks the whole radix tree: free a slice of the cache per
  // walk, or a full pool walks it again for every page (an MMLU run's
  // scheduling took 177 of its 242 s that way).
  return std::max<std::int64_t>(1, cache_.cached_pages() / 64);
}

std::int32_t Scheduler::allocate_page() {
  std::int32_t page = pool_.allocate();
  if (page < 0 && cache_.evict(eviction_batch()) > 0) page = pool_.allocate();
  return page;
}

bool Scheduler::ensure_pages(Sequence* s, std::int64_t upto) {
  const std::int64_t page_size = pool_.page_size();
  // A page shared with a sibling or the cache is copied before it is written.
  const std::int64_t first = s->computed / page_size;
  if (first < static_cast<std::int64_t>(s->page_table.size())) {
    std::int32_t& page = s->page_table[static_cast<std::size_t>(first)];
    if (pool_.ref_count(page) > 1) {
      std::int32_t copy = pool_.copy_on_write(page);
      if (copy < 0 && cache_.evict(eviction_batch()) > 0) copy = pool_.copy_on_write(page);
      if (copy < 0) return false;
      page = copy;
    }
  }
  while (static_cast<std::int64_t>(s->page_table.size()) < model::pages_for_tokens(upto, page_size)) {
    const std::int32_t page = allocate_page();
    if (page < 0) return false;
    s->page_table.push_back(page);
  }
  return true;
}

void Scheduler::release_memory(Sequence* s) {
  for (std::int32_t page : s->page_table) pool_.release(page);
  s->page_table.clear();
  s->computed = 0;
  if (s->state_slot >= 0) {
    states_.release(s->state_slot);
    s->state_slot = -1;
  }
  for (const std::int32_t slot : s->fork_slots) states_.release(slot);
  s->fork_slots.clear();
  s->decode_snapshot_id = 0;  // it stays in the cache for whoever matches it
}

void Scheduler::preempt(Sequence* victim) {
  running_.erase(std::find(running_.begin(), running_.end(), victim));
  release_memory(victim);
  ++preemptions_;
  add_waiting(victim);
}

void Scheduler::remove(Sequence* s) {
  release_memory(s);
  running_.erase(std::remove(running_.begin(), running_.end(), s), running_.end());
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), s), waiting_.end());
}

std::vector<std::int64_t> Scheduler::snapshot_points(const Sequence& s) const {
  if (!cache_.takes_snapshots()) return {};
  const std::int64_t page_size = pool_.page_size();
  const auto length = static_cast<std::int64_t>(s.tokens.size());
  const std::int64_t hint = std::min(s.state->request.snapshot_at, length) / page_size * page_size;
  const std::int64_t end = length / page_size * page_size;
  std::vector<std::int64_t> points;
  if (hint > 0 && hint < end) points.push_back(hint);
  if (end > 0) points.push_back(end);
  return points;
}

std::int64_t Scheduler::chunk_rows(const Sequence* s, std::int64_t budget) const {
  const std::int64_t rows = std::min(s->pending(), budget);
  // A chunk that would run past a snapshot point stops there: the state
  // exists only at the ends of steps.
  for (const std::int64_t point : snapshot_points(*s)) {
    if (s->computed < point && s->computed + rows > point) return point - s->computed;
  }
  return rows;
}

std::int32_t Scheduler::allocate_state(bool zeroed) {
  std::int32_t slot = states_.allocate(zeroed);
  while (slot < 0 && cache_.evict_snapshot()) slot = states_.allocate(zeroed);
  return slot;
}

bool Scheduler::admit(Sequence* s, std::int64_t budget, std::vector<ScheduledChunk>& chunks) {
  const Request& r = s->state->request;
  const bool use_cache = config_.prefix_cache && cache_.can_match();
  const bool hybrid = pool_.cache().has_state();
  // Hybrid models: a state slot, and one for each sibling it will start;
  // taken before the cache is matched, as taking one may evict snapshots.
  if (hybrid) {
    const std::int64_t wanted = s->starts_forks() ? s->state->request.n : 1;
    for (std::int64_t i = 0; i < wanted; ++i) {
      const std::int32_t slot = allocate_state(/*zeroed=*/i > 0 || !use_cache);
      if (slot < 0) {
        release_memory(s);
        return false;
      }
      if (i == 0) {
        s->state_slot = slot;
      } else {
        s->fork_slots.push_back(slot);
      }
    }
  }
  // Leave at least one token to compute: its logits choose the next token.
  // Prompt logprobs from position p need the logits of row p - 1.
  std::int64_t lookup = static_cast<std::int64_t>(s->tokens.size()) - 1;
  if (r.prompt_logprobs) lookup = std::min(lookup, std::max<std::int64_t>(0, r.prompt_logprobs_from - 1));
  if (use_cache) {
    RadixCache::Match m = cache_.match(r.cache_namespace, s->tokens, lookup);
    s->page_table = std::move(m.pages);
    s->computed = m.tokens;
    if (hybrid) {
      // Resume from the snapshot after the matched pages, or from nothing.
      if (m.snapshot >= 0) {
        pool_.cache().copy_state(m.snapshot, s->state_slot);
      } else {
        pool_.cache().zero_state(s->state_slot);
      }
    }
  }
  const std::int64_t rows = chunk_rows(s, budget);
  if (!ensure_pages(s, s->computed + rows)) {
    release_memory(s);
    return false;
  }
  // Counted only once the sequence is in: a sequence that waits for pages
  // looks the cache up again every step.
  if (use_cache) {
    cache_.record_lookup(lookup, s->computed);
    if (hybrid && s->computed > 0) cache_.record_snapshot_hit();
    if (!s->counted_cache_hit) {
      s->state->usage.cached_tokens += std::min(s->computed, s->prompt_len);
      s->counted_cache_hit = true;
    }
  }
  s->status = SequenceStatus::kRunning;
  s->admitted_at = ++admissions_;
  running_.push_back(s);
  chunks.push_back({s, s->computed, s->computed + rows});
  return true;
}

std::vector<ScheduledChunk> Scheduler::schedule() {
  std::vector<ScheduledChunk> chunks;
  std::int64_t budget = config_.max_batched_tokens;
  // Running sequences, oldest admission first. A copy: preemption edits running_.
  std::vector<Sequence*> order = running_;
  for (Sequence* s : order) {
    if (s->status != SequenceStatus::kRunning || budget == 0) continue;
    const std::int64_t rows = chunk_rows(s, budget);
    bool preempted_self = false;
    while (!ensure_pages(s, s->computed + rows)) {
      Sequence* victim = running_.back();  // the most recently admitted
      preempt(victim);
      if (victim == s) {
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) continue;
    chunks.push_back({s, s->computed, s->computed + rows});
    budget -= rows;
  }
  // Admit waiting sequences in order; stop at the first that does not fit so
  // a long request is not overtaken forever.
  while (!waiting_.empty() && budget > 0 && static_cast<std::int64_t>(running_.size()) < config_.max_num_seqs) {
    Sequence* s = waiting_.front();
    if (!admit(s, budget, chunks)) break;
    waiting_.pop_front();
    budget -= chunks.back().end - chunks.back().begin;
  }
  return chunks;
}

}  // namespace arle::engine
