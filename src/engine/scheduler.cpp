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

std::int32_t Scheduler::allocate_page() {
  std::int32_t page = pool_.allocate();
  if (page < 0 && cache_.evict(1) > 0) page = pool_.allocate();
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
      if (copy < 0 && cache_.evict(1) > 0) copy = pool_.copy_on_write(page);
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

bool Scheduler::admit(Sequence* s, std::int64_t budget, std::vector<ScheduledChunk>& chunks) {
  const Request& r = s->state->request;
  // Cached pages cannot restore a hybrid model's recurrent state.
  const bool use_cache = config_.prefix_cache && !r.prompt_logprobs && !pool_.cache().has_state();
  // Leave at least one token to compute: its logits choose the next token.
  const std::int64_t lookup = static_cast<std::int64_t>(s->tokens.size()) - 1;
  if (use_cache) {
    RadixCache::Match m = cache_.match(r.cache_namespace, s->tokens, lookup);
    s->page_table = std::move(m.pages);
    s->computed = m.tokens;
  }
  // Hybrid models: a zeroed state slot (the prefix cache is off for them,
  // so the sequence starts from its first token), and one for each sibling
  // it will start.
  if (pool_.cache().has_state()) {
    const std::int64_t wanted = s->starts_forks() ? s->state->request.n : 1;
    if (states_.free_slots() < wanted) {
      release_memory(s);
      return false;
    }
    s->state_slot = states_.allocate();
    for (std::int64_t i = 1; i < wanted; ++i) s->fork_slots.push_back(states_.allocate());
  }
  const std::int64_t rows = std::min(s->pending(), budget);
  if (!ensure_pages(s, s->computed + rows)) {
    release_memory(s);
    return false;
  }
  // Counted only once the sequence is in: a sequence that waits for pages
  // looks the cache up again every step.
  if (use_cache) {
    cache_.record_lookup(lookup, s->computed);
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
    const std::int64_t rows = std::min(s->pending(), budget);
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
