#pragma once
// Request: what a client asks the engine for; Delta: what streams back;
// RequestHandle: the thread-safe stream between the two. Handles are shared
// by the client thread and the engine thread, so only the queue inside is
// locked; nothing else of the engine is reachable through them.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/logprobs.h"
#include "engine/sampling_params.h"

namespace arle::engine {

struct Request {
  std::vector<std::int32_t> prompt_ids;
  SamplingParams sampling;
  std::int64_t max_tokens = 16;
  std::int64_t min_tokens = 0;               // EOS and stop tokens are masked until this many
  std::vector<std::string> stop;             // stop strings (not returned)
  std::vector<std::int32_t> stop_token_ids;  // end the sequence (returned in token_ids)
  std::vector<std::int32_t> eos_token_ids;   // the model's EOS; ignored with ignore_eos
  bool ignore_eos = false;
  int n = 1;                     // samples sharing the prompt's KV; sample i uses seed + i
  bool prompt_logprobs = false;  // echo: logprobs of prompt tokens
  // With prompt_logprobs: the first prompt position whose logprob is wanted
  // (earlier ones come back empty). The prefix cache may serve the prompt
  // before it, so an eval's shared few-shot context is computed once; 0 (an
  // echo request) scores every token and matches nothing.
  std::int64_t prompt_logprobs_from = 0;
  int priority = 0;             // lower is served first; FCFS within a priority
  std::string cache_namespace;  // model + tokenizer + adapter; prefixes are shared only within one
  // Hybrid models: where the part of the prompt a later request is likely to
  // share ends (a chat prompt's history, before the generation prompt); the
  // prefix cache keeps a state snapshot at the last page boundary at or
  // before it. 0: only the prompt's own last boundary.
  std::int64_t snapshot_at = 0;
};

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;  // over all n samples
  std::int64_t cached_tokens = 0;      // prompt tokens served from the prefix cache
};

struct Delta {
  int index = 0;  // which of the n samples
  std::vector<std::int32_t> token_ids;
  std::string text;
  std::vector<TokenLogprob> logprobs;
  std::optional<std::string> finish_reason;                  // "stop", "length", "abort" or "error"
  std::string error;                                         // with finish_reason "error"
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;  // in the first delta, when asked
  std::optional<Usage> usage;                                // in the request's last delta
};

class RequestHandle {
 public:
  explicit RequestHandle(std::uint64_t id) : id_(id) {}
  std::uint64_t id() const { return id_; }

  // Blocks until a delta arrives; empty once the request is over and drained.
  std::optional<Delta> next();
  // Never blocks: the next delta if one is queued. `ended` tells whether the
  // request is over and drained (for event loops that must not block).
  std::optional<Delta> try_next(bool& ended);
  // Called (on the engine thread) after each push and at close; lets an event
  // loop wake up instead of polling. Set it before the first delta can arrive.
  void on_ready(std::function<void()> notify);
  // Asks the engine to stop this request; its pages are freed within one step.
  void cancel() { cancelled_.store(true, std::memory_order_release); }
  bool cancel_requested() const { return cancelled_.load(std::memory_order_acquire); }

  // Engine side.
  void push(Delta delta);
  void close();

 private:
  std::uint64_t id_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Delta> deltas_;
  bool closed_ = false;
  std::function<void()> notify_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace arle::engine
