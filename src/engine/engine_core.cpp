#include "engine/engine_core.h"

#include <algorithm>
#include <chrono>

#include "common/error.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "engine/generate.h"

namespace arle::engine {
namespace {

bool contains(const std::vector<std::int32_t>& ids, std::int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

EngineCore::EngineCore(model::CausalLm& model, const text::Tokenizer& tokenizer, EngineConfig config)
    : model_(model),
      tokenizer_(tokenizer),
      config_(config),
      plan_(plan_memory(model, config)),
      pool_(model.config(), plan_.kv_pages, config.page_size, model.kv_storage(), plan_.state_slots),
      states_(pool_.cache()),
      cache_(pool_, &states_, plan_.state_snapshots),
      scheduler_(config.scheduler, pool_, cache_, states_),
      runner_(model, pool_) {
  log::info("{}", describe(plan_));
}

EngineCore::~EngineCore() {
  for (auto& [id, live] : requests_) {
    for (auto& s : live.sequences) scheduler_.remove(s.get());
    live.state->handle->close();
  }
}

void EngineCore::add(std::shared_ptr<RequestHandle> handle, Request request) {
  const model::ModelConfig& config = model_.config();
  const std::uint64_t id = handle->id();
  try {
    if (requests_.count(id)) throw_error(ErrorCode::kInternal, "request id {} is in use", id);
    if (request.n < 1 || request.n > 64)
      throw_error(ErrorCode::kInvalidArgument, "n = {} must be in [1, 64]", request.n);
    const std::int64_t sequence_slots = plan_.state_slots - plan_.state_snapshots;
    if (plan_.state_slots > 0 && request.n > sequence_slots) {
      throw_error(ErrorCode::kInvalidArgument,
                  "n = {} exceeds the {} sequences this engine runs at once (--max-num-seqs)", request.n,
                  sequence_slots);
    }
    if (request.min_tokens < 0 || request.min_tokens > request.max_tokens) {
      throw_error(ErrorCode::kInvalidArgument, "min_tokens = {} must be in [0, max_tokens = {}]", request.min_tokens,
                  request.max_tokens);
    }
    GenerateRequest check;
    check.prompt_ids = request.prompt_ids;
    check.sampling = request.sampling;
    check.max_tokens = request.max_tokens;
    validate_generate_request(check, config);
    const std::int64_t longest = std::min<std::int64_t>(
        static_cast<std::int64_t>(request.prompt_ids.size()) + request.max_tokens, config.max_position_embeddings);
    if (model::pages_for_tokens(longest, pool_.page_size()) > pool_.num_pages()) {
      throw_error(ErrorCode::kInvalidArgument,
                  "the request needs up to {} tokens of KV cache but the pool holds {}; lower max_tokens or raise "
                  "--kv-cache-memory",
                  longest, capacity_tokens());
    }
  } catch (const Error& e) {
    Delta d;
    d.finish_reason = "error";
    d.error = e.what();
    handle->push(std::move(d));
    handle->close();
    return;
  }
  Live live;
  live.state = std::make_shared<RequestState>();
  live.state->id = id;
  live.state->arrival = next_id_++;
  live.state->request = std::move(request);
  live.state->handle = std::move(handle);
  live.state->usage.prompt_tokens = static_cast<std::int64_t>(live.state->request.prompt_ids.size());
  live.state->unfinished = live.state->request.n;
  // Positions before the first scored one (at least position 0) have none.
  if (live.state->request.prompt_logprobs) {
    live.state->prompt_logprobs.resize(static_cast<std::size_t>(std::max<std::int64_t>(
        1, std::min<std::int64_t>(live.state->request.prompt_logprobs_from,
                                  static_cast<std::int64_t>(live.state->request.prompt_ids.size())))));
  }
  for (int i = 0; i < live.state->request.n; ++i) {
    live.sequences.push_back(std::make_unique<Sequence>(live.state, i, tokenizer_, config.vocab_size));
  }
  scheduler_.add_waiting(live.sequences[0].get());
  for (int i = 1; i < live.state->request.n; ++i)
    live.forks.push_back(live.sequences[static_cast<std::size_t>(i)].get());
  requests_.emplace(id, std::move(live));
}

void EngineCore::abort(std::uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  std::vector<Sequence*> sequences;
  for (auto& s : it->second.sequences) sequences.push_back(s.get());
  // finish() erases the request with its last sample: check before each.
  for (Sequence* s : sequences) {
    if (requests_.count(id) == 0) break;
    if (s->status != SequenceStatus::kFinished) finish(*s, "abort");
  }
}

void EngineCore::abort_all(const std::string& error) {
  std::vector<std::uint64_t> ids;
  for (auto& [id, live] : requests_) ids.push_back(id);
  for (std::uint64_t id : ids) {
    auto it = requests_.find(id);
    Delta d;
    d.index = -1;  // request-level
    d.error = error;
    it->second.state->handle->push(std::move(d));
    abort(id);
  }
}

void EngineCore::poll_cancellations() {
  std::vector<std::uint64_t> cancelled;
  for (auto& [id, live] : requests_) {
    if (live.state->handle->cancel_requested()) cancelled.push_back(id);
  }
  for (std::uint64_t id : cancelled) abort(id);
}

void EngineCore::sample_into(Sequence& s, const float* logits) {
  emit_token(s, s.sampler.sample(logits, s.banned_tokens()));
}

void EngineCore::emit_token(Sequence& s, SampleResult sampled) {
  const Request& r = s.state->request;
  const std::int32_t token = sampled.token;
  const auto now = std::chrono::steady_clock::now();
  EngineMetrics& m = stats_.metrics;
  if (!s.state->first_token_seen) {
    m.time_to_first_token.observe(std::chrono::duration<double>(now - s.state->arrived).count());
    s.state->first_token_seen = true;
  } else if (s.output_len() > 0) {
    m.inter_token_latency.observe(std::chrono::duration<double>(now - s.last_token).count());
  }
  s.last_token = now;
  ++m.generation_tokens_total;
  s.tokens.push_back(token);
  ++s.state->usage.completion_tokens;
  Delta d;
  d.index = s.index;
  d.token_ids.push_back(token);
  if (r.sampling.logprobs >= 0) d.logprobs.push_back(std::move(sampled.logprob));
  if (s.index == 0 && s.output_len() == 1 && r.prompt_logprobs) d.prompt_logprobs = s.state->prompt_logprobs;

  std::optional<std::string> reason;
  const bool past_min = s.output_len() >= r.min_tokens;
  if ((!r.ignore_eos && contains(r.eos_token_ids, token)) || contains(r.stop_token_ids, token)) {
    reason = "stop";
  } else {
    std::string piece = s.detokenizer.push(token);
    // Stop strings count only after min_tokens, as in vLLM.
    d.text = past_min ? s.stops.push(piece) : piece;
    if (s.stops.stopped()) reason = "stop";
  }
  if (!reason && (s.output_len() >= r.max_tokens ||
                  static_cast<std::int64_t>(s.tokens.size()) >= model_.config().max_position_embeddings)) {
    reason = "length";
  }
  if (reason && !s.stops.stopped()) {
    d.text += s.stops.push(s.detokenizer.finish());
    if (!s.stops.stopped()) d.text += s.stops.finish();
  }
  d.finish_reason = reason;
  s.state->handle->push(std::move(d));
  if (reason) finish(s, *reason);
}

void EngineCore::finish(Sequence& s, const std::string& reason) {
  const Request& r = s.state->request;
  if (reason == "abort") {
    Delta d;
    d.index = s.index;
    d.finish_reason = reason;
    s.state->handle->push(std::move(d));
  }
  if (scheduler_.prefix_cache() && cache_.can_match() &&
      scheduler_.running().end() != std::find(scheduler_.running().begin(), scheduler_.running().end(), &s)) {
    cache_.insert(r.cache_namespace, s.tokens, s.computed, s.page_table);
  }
  scheduler_.remove(&s);
  s.status = SequenceStatus::kFinished;
  // Forks that never started end with their parent.
  auto& live = requests_.at(s.state->id);
  if (s.index == 0 && !live.forks.empty()) {
    for (Sequence* f : live.forks) {
      f->status = SequenceStatus::kFinished;
      Delta d;
      d.index = f->index;
      d.finish_reason = reason;
      s.state->handle->push(std::move(d));
      --s.state->unfinished;
    }
    live.forks.clear();
  }
  s.state->last_finish_reason = reason;
  if (--s.state->unfinished == 0) end_request(s.state->id);
}

void EngineCore::end_request(std::uint64_t id) {
  auto it = requests_.find(id);
  EngineMetrics& m = stats_.metrics;
  m.e2e_latency.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.state->arrived).count());
  m.prompt_tokens_total += it->second.state->usage.prompt_tokens;
  ++m.requests_finished[it->second.state->last_finish_reason];
  Delta d;
  d.index = -1;  // request-level: usage only
  d.usage = it->second.state->usage;
  it->second.state->handle->push(std::move(d));
  it->second.state->handle->close();
  requests_.erase(it);
}

void EngineCore::cache_computed(Sequence& s, const ScheduledChunk& chunk) {
  const std::int64_t page_size = pool_.page_size();
  const std::int64_t pages_before = s.computed / page_size;
  s.computed = chunk.end;
  const Request& r = s.state->request;
  if (!scheduler_.prefix_cache() || !cache_.can_match()) return;
  // Cache full pages as the prefill goes, so a long prompt helps the next
  // request before this one finishes.
  if (s.computed / page_size > pages_before) cache_.insert(r.cache_namespace, s.tokens, s.computed, s.page_table);
  if (!cache_.takes_snapshots() || s.computed % page_size != 0) return;
  // The state now is the state after exactly s.computed tokens. A prefill
  // keeps it at its snapshot points (the scheduler ends chunks there); a
  // decoding sample at every page boundary it passes, keeping only its
  // latest, so a finished turn leaves the last one.
  const bool decoding = chunk.begin >= s.prompt_len;
  if (!decoding) {
    const std::vector<std::int64_t> points = scheduler_.snapshot_points(s);
    if (std::find(points.begin(), points.end(), s.computed) == points.end()) return;
  }
  if (decoding) cache_.drop_snapshot(s.decode_snapshot_id);
  const std::uint64_t id = cache_.add_snapshot(r.cache_namespace, s.tokens, s.computed, s.state_slot, decoding);
  if (decoding) s.decode_snapshot_id = id;
}

bool EngineCore::step() {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  };
  const auto start = Clock::now();
  poll_cancellations();
  std::vector<ScheduledChunk> chunks = scheduler_.schedule();
  if (chunks.empty()) return false;
  const auto scheduled = Clock::now();
  StepLogits result = runner_.run(chunks, [this](const Sequence& s) { return requests_.at(s.state->id).forks; });
  const auto ran = Clock::now();
  stats_.schedule_seconds += seconds(start, scheduled);
  stats_.model_seconds += seconds(scheduled, ran);
  const std::int64_t vocab = result.logits.size(1);
  ++stats_.steps;
  stats_.rows += result.prefill_rows + result.decode_rows;
  stats_.prefill_rows += result.prefill_rows;
  stats_.decode_rows += result.decode_rows;
  stats_.peak_used_pages = std::max(stats_.peak_used_pages, pool_.num_pages() - pool_.free_pages());

  for (const ScheduledChunk& ch : chunks) cache_computed(*ch.sequence, ch);
  // Prompt logprobs, a log-softmax over the vocabulary each, on every core:
  // an evaluation's step holds hundreds of them.
  std::vector<std::size_t> scored;
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    if (result.rows[i].prompt_logprob) scored.push_back(i);
  }
  std::vector<TokenLogprob> prompt_scores(result.rows.size());
  kernel_thread_pool().parallel_for(
      static_cast<std::int64_t>(scored.size()), 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k) {
          const LogitRow& use = result.rows[scored[static_cast<std::size_t>(k)]];
          const Sequence& s = *use.sequence;
          prompt_scores[scored[static_cast<std::size_t>(k)]] = token_logprob(
              result.logits.data<float>() + use.host_row * vocab, vocab,
              s.tokens[static_cast<std::size_t>(use.position + 1)], std::max(s.state->request.sampling.logprobs, 0));
        }
      });
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    LogitRow& use = result.rows[i];
    Sequence& s = *use.sequence;
    const float* row = use.host_row >= 0 ? result.logits.data<float>() + use.host_row * vocab : nullptr;
    const std::int64_t p = use.position;
    if (use.prompt_logprob && static_cast<std::int64_t>(s.state->prompt_logprobs.size()) == p + 1) {
      s.state->prompt_logprobs.emplace_back(std::move(prompt_scores[i]));
    }
    if (!use.sample) continue;
    // Sample 0 finished its prompt: its siblings start from the same pages
    // (their rows, with copies of these logits, follow this one).
    if (s.starts_forks()) {
      Live& live = requests_.at(s.state->id);
      for (Sequence* f : live.forks) scheduler_.add_running_fork(f, s);
      live.forks.clear();
    }
    if (s.status != SequenceStatus::kRunning) throw_error(ErrorCode::kInternal, "a logits row of a stopped sample");
    if (use.device_sample) {
      emit_token(s, s.sampler.accept(std::move(*use.device_sample)));
    } else {
      sample_into(s, row);
    }
  }
  stats_.output_seconds += seconds(ran, Clock::now());
  stats_.preemptions = scheduler_.preemptions();
  stats_.metrics.requests_running = static_cast<std::int64_t>(scheduler_.running().size());
  stats_.metrics.requests_waiting = static_cast<std::int64_t>(scheduler_.waiting().size());
  stats_.metrics.kv_cache_usage =
      static_cast<double>(pool_.num_pages() - pool_.free_pages()) / static_cast<double>(pool_.num_pages());
  stats_.cache_hit_tokens = cache_.hit_tokens();
  stats_.cache_queried_tokens = cache_.queried_tokens();
  stats_.snapshot_hits = cache_.snapshot_hits();
  stats_.snapshots_taken = cache_.snapshots_taken();
  stats_.snapshots = cache_.snapshots();
  return true;
}

void EngineCore::check_invariants() const {
  cache_.check_invariants();
  std::vector<std::int32_t> holders(static_cast<std::size_t>(pool_.num_pages()), 0);
  for (std::int32_t page : cache_.pages()) ++holders[static_cast<std::size_t>(page)];
  std::vector<bool> slot_held(static_cast<std::size_t>(states_.slots()), false);
  std::int64_t slots_held = 0;
  auto hold_slot = [&](std::int32_t slot) {
    if (slot < 0 || slot >= states_.slots() || slot_held[static_cast<std::size_t>(slot)]) {
      throw_error(ErrorCode::kInternal, "state slot {} is held twice or does not exist", slot);
    }
    slot_held[static_cast<std::size_t>(slot)] = true;
    ++slots_held;
  };
  for (const auto& [id, live] : requests_) {
    for (const auto& s : live.sequences) {
      if (s->status == SequenceStatus::kWaiting &&
          (!s->page_table.empty() || s->state_slot >= 0 || !s->fork_slots.empty() || s->decode_snapshot_id != 0)) {
        throw_error(ErrorCode::kInternal, "a waiting sequence holds pages, state slots or a snapshot");
      }
      if (s->status == SequenceStatus::kRunning && states_.slots() > 0 && s->state_slot < 0) {
        throw_error(ErrorCode::kInternal, "a running sequence of a hybrid model has no state slot");
      }
      for (std::int32_t page : s->page_table) ++holders[static_cast<std::size_t>(page)];
      if (s->state_slot >= 0) hold_slot(s->state_slot);
      for (std::int32_t slot : s->fork_slots) hold_slot(slot);
    }
  }
  for (std::int32_t slot : cache_.snapshot_slots()) hold_slot(slot);
  if (slots_held + states_.free_slots() != states_.slots()) {
    throw_error(ErrorCode::kInternal, "{} state slots held and {} free of {}", slots_held, states_.free_slots(),
                states_.slots());
  }
  std::int64_t free_count = 0;
  for (std::int64_t p = 0; p < pool_.num_pages(); ++p) {
    const std::int32_t refs = pool_.ref_count(static_cast<std::int32_t>(p));
    free_count += refs == 0;
    if (refs != holders[static_cast<std::size_t>(p)]) {
      throw_error(ErrorCode::kInternal, "page {} has {} references but {} holders", p, refs,
                  holders[static_cast<std::size_t>(p)]);
    }
  }
  if (free_count != pool_.free_pages()) {
    throw_error(ErrorCode::kInternal, "{} pages have no reference but {} are free", free_count, pool_.free_pages());
  }
}

}  // namespace arle::engine
