#pragma once
// Engine: EngineCore on its own thread. submit() may be called from any
// thread and returns at once with a RequestHandle that streams the request's
// deltas; the engine thread drains its inbox, applies cancellations and runs
// steps while there is work, and sleeps otherwise.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "engine/engine_core.h"

namespace arle::engine {

class Engine {
 public:
  Engine(model::CausalLm& model, const text::Tokenizer& tokenizer, EngineConfig config);
  ~Engine();  // aborts what is still running
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::shared_ptr<RequestHandle> submit(Request request);
  // As submit(), but null when EngineConfig::max_waiting_requests requests
  // already wait (queued, or arrived since the last step): the server's 503.
  std::shared_ptr<RequestHandle> try_submit(Request request);
  // Snapshot of the counters (taken on the engine thread between steps).
  EngineStats stats();
  std::int64_t capacity_tokens() const { return capacity_tokens_; }

 private:
  std::shared_ptr<RequestHandle> enqueue(Request request, bool limited);
  void loop();

  EngineCore core_;
  std::int64_t capacity_tokens_;
  std::int64_t max_waiting_requests_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::pair<std::shared_ptr<RequestHandle>, Request>> inbox_;
  EngineStats stats_;
  bool stopping_ = false;
  std::uint64_t next_id_ = 1;
  std::thread thread_;
};

// One finished sample of a request, gathered from its deltas.
struct Completion {
  std::vector<std::int32_t> token_ids;
  std::string text;
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason;
  std::string error;
};

struct RequestResult {
  std::vector<Completion> samples;  // n of them
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;
  Usage usage;
};

// Adds one delta to a result (samples grow to the delta's index): for
// callers that read handles without blocking, like the server.
void add_delta(RequestResult& result, const Delta& delta);
// Reads a handle to its end (blocks).
RequestResult collect(RequestHandle& handle, int n);
// Submits every request at once and waits for all (eval, train, tests).
std::vector<RequestResult> run_all(Engine& engine, std::vector<Request> requests);

}  // namespace arle::engine
