#include "engine/engine.h"

#include "common/log.h"

namespace arle::engine {

Engine::Engine(model::CausalLm& model, const text::Tokenizer& tokenizer, EngineConfig config)
    : core_(model, tokenizer, config),
      capacity_tokens_(core_.capacity_tokens()),
      max_waiting_requests_(config.max_waiting_requests),
      thread_([this] { loop(); }) {}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<RequestHandle> Engine::submit(Request request) { return enqueue(std::move(request), false); }

std::shared_ptr<RequestHandle> Engine::try_submit(Request request) { return enqueue(std::move(request), true); }

std::shared_ptr<RequestHandle> Engine::enqueue(Request request, bool limited) {
  std::shared_ptr<RequestHandle> handle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto waiting = stats_.metrics.requests_waiting + static_cast<std::int64_t>(inbox_.size());
    if (limited && max_waiting_requests_ > 0 && waiting >= max_waiting_requests_) return nullptr;
    handle = std::make_shared<RequestHandle>(next_id_++);
    inbox_.emplace_back(handle, std::move(request));
  }
  wake_.notify_all();
  return handle;
}

EngineStats Engine::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void Engine::loop() {
  for (;;) {
    std::vector<std::pair<std::shared_ptr<RequestHandle>, Request>> arrived;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Sleep only when idle; a cancelled handle is noticed on the next step.
      wake_.wait(lock, [&] { return stopping_ || !inbox_.empty() || !core_.idle(); });
      if (stopping_) break;
      arrived.swap(inbox_);
    }
    for (auto& [handle, request] : arrived) core_.add(handle, std::move(request));
    try {
      core_.step();
    } catch (const std::exception& e) {
      // A failed step must not leave clients waiting forever.
      log::error("engine step failed: {}; aborting running requests", e.what());
      core_.abort_all(e.what());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stats_ = core_.stats();
  }
}

void add_delta(RequestResult& result, const Delta& d) {
  if (d.usage) result.usage = *d.usage;
  if (!d.prompt_logprobs.empty()) result.prompt_logprobs = d.prompt_logprobs;
  if (d.index < 0) {
    if (!d.error.empty()) {
      for (Completion& c : result.samples) c.error = d.error;
    }
    return;
  }
  if (static_cast<std::size_t>(d.index) >= result.samples.size())
    result.samples.resize(static_cast<std::size_t>(d.index) + 1);
  Completion& c = result.samples[static_cast<std::size_t>(d.index)];
  c.token_ids.insert(c.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
  c.text += d.text;
  c.logprobs.insert(c.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
  if (d.finish_reason) c.finish_reason = *d.finish_reason;
  if (!d.error.empty()) c.error = d.error;
}

RequestResult collect(RequestHandle& handle, int n) {
  RequestResult result;
  result.samples.resize(static_cast<std::size_t>(std::max(n, 1)));
  while (std::optional<Delta> d = handle.next()) add_delta(result, *d);
  return result;
}

std::vector<RequestResult> run_all(Engine& engine, std::vector<Request> requests) {
  std::vector<std::pair<std::shared_ptr<RequestHandle>, int>> handles;
  for (Request& r : requests) {
    const int n = r.n;
    handles.emplace_back(engine.submit(std::move(r)), n);
  }
  std::vector<RequestResult> results;
  for (auto& [handle, n] : handles) results.push_back(collect(*handle, n));
  return results;
}

}  // namespace arle::engine
