#pragma once
// Sequence: one sample of one request as the engine tracks it: its tokens
// (prompt, then output), which of them have K/V in the pool, its page table,
// and the output-side state (sampler, detokenizer, stop strings).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "engine/sampler.h"
#include "engine/stop_strings.h"
#include "text/incremental_detokenizer.h"

namespace arle::engine {

// What all samples of a request share.
struct RequestState {
  std::uint64_t id = 0;
  std::uint64_t arrival = 0;
  Request request;
  std::shared_ptr<RequestHandle> handle;
  Usage usage;
  int unfinished = 0;  // samples still running
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  bool first_token_seen = false;
  std::string last_finish_reason;
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;
};

enum class SequenceStatus { kWaiting, kRunning, kFinished };

struct Sequence {
  Sequence(std::shared_ptr<RequestState> state, int index, const text::Tokenizer& tokenizer, std::int64_t vocab);

  std::shared_ptr<RequestState> state;
  int index;  // which of the request's n samples
  std::vector<std::int32_t> tokens;
  std::int64_t prompt_len;
  std::int64_t computed = 0;  // tokens whose K/V are in the pool
  std::vector<std::int32_t> page_table;
  std::int32_t state_slot = -1;  // hybrid models: its recurrent state in the cache; -1 when none
  // Hybrid models: slots reserved at admission for the siblings this sample
  // starts (n > 1), so a fork never waits for one.
  std::vector<std::int32_t> fork_slots;
  // Hybrid models: the id of the state snapshot this sample last left in
  // the radix cache while decoding (0: none). Each page boundary it decodes
  // past replaces it, so a finished turn leaves its latest one.
  std::uint64_t decode_snapshot_id = 0;
  SequenceStatus status = SequenceStatus::kWaiting;
  std::uint64_t admitted_at = 0;  // admission order, for preemption
  bool counted_cache_hit = false;
  std::chrono::steady_clock::time_point last_token;  // for inter-token latency

  Sampler sampler;
  text::IncrementalDetokenizer detokenizer;
  StopStrings stops;

  std::int64_t output_len() const { return static_cast<std::int64_t>(tokens.size()) - prompt_len; }
  // Rows still to compute before the next sample.
  std::int64_t pending() const { return static_cast<std::int64_t>(tokens.size()) - computed; }
  bool prefilling() const { return computed < prompt_len; }
  // Tokens the next sample may not pick: before min_tokens, EOS and stop ids.
  std::vector<std::int32_t> banned_tokens() const;
  // Whether this row's sample also starts the request's other samples from
  // the same logits (sample 0's first token of an n > 1 request).
  bool starts_forks() const { return index == 0 && state->request.n > 1 && output_len() == 0; }
};

}  // namespace arle::engine
