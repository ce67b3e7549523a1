#include "eval/local_backend.h"

#include <condition_variable>
#include <mutex>

#include "common/error.h"
#include "common/thread_pool.h"
#include "eval/prefix_schedule.h"

namespace arle::eval {

LocalBackend::LocalBackend(engine::Engine& engine, const text::Tokenizer& tokenizer,
                           std::vector<std::int32_t> eos_token_ids, std::int64_t max_length, std::string description,
                           std::string cache_namespace, int concurrency)
    : engine_(engine),
      tokenizer_(tokenizer),
      eos_token_ids_(std::move(eos_token_ids)),
      max_length_(max_length),
      description_(std::move(description)),
      cache_namespace_(std::move(cache_namespace)),
      concurrency_(std::max(concurrency, 1)) {}

std::vector<std::vector<std::int32_t>> LocalBackend::tokenize(const std::vector<std::string>& texts) {
  std::vector<std::vector<std::int32_t>> out(texts.size());
  // Thousands of few-shot prompts: worth the cores (the engine is idle meanwhile).
  ThreadPool pool(0);
  pool.parallel_for(static_cast<std::int64_t>(texts.size()), 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      out[static_cast<std::size_t>(i)] =
          tokenizer_.encode(texts[static_cast<std::size_t>(i)], /*add_special_tokens=*/false);
    }
  });
  return out;
}

template <typename Result, typename Read>
std::vector<Result> LocalBackend::run(std::vector<engine::Request> requests, const std::function<void()>& done,
                                      const Read& read) {
  const std::size_t n = requests.size();
  std::vector<const std::vector<std::int32_t>*> prompts;
  for (const engine::Request& r : requests) prompts.push_back(&r.prompt_ids);
  FollowerQueue queue(prefix_leaders(prompts));
  std::vector<Result> results(n);
  struct InFlight {
    std::size_t index;
    std::shared_ptr<engine::RequestHandle> handle;
    engine::RequestResult result;
  };
  std::vector<InFlight> in_flight;
  // The engine thread says when a handle has news; the scan below reads it.
  std::mutex mutex;
  std::condition_variable news;
  bool pending = false;
  // Should reading a result throw, the engine must not call into this frame
  // after it is gone: the handles still in flight drop the callback and stop.
  struct Unhook {
    std::vector<InFlight>& in_flight;
    ~Unhook() {
      for (InFlight& f : in_flight) {
        f.handle->on_ready(nullptr);
        f.handle->cancel();
      }
    }
  } unhook{in_flight};
  while (!queue.all_finished()) {
    while (static_cast<int>(in_flight.size()) < concurrency_) {
      const std::optional<std::size_t> i = queue.next();
      if (!i) break;
      requests[*i].cache_namespace = cache_namespace_;
      std::shared_ptr<engine::RequestHandle> handle = engine_.submit(std::move(requests[*i]));
      handle->on_ready([&] {
        std::lock_guard<std::mutex> lock(mutex);
        pending = true;
        news.notify_one();
      });
      in_flight.push_back({*i, std::move(handle), {}});
      in_flight.back().result.samples.resize(1);
    }
    // Deltas pushed before on_ready was set are in the queue: the scan sees them.
    bool progressed = false;
    for (std::size_t k = 0; k < in_flight.size();) {
      bool ended = false;
      while (std::optional<engine::Delta> d = in_flight[k].handle->try_next(ended)) {
        engine::add_delta(in_flight[k].result, *d);
        progressed = true;
      }
      if (!ended) {
        ++k;
        continue;
      }
      in_flight[k].handle->on_ready(nullptr);
      results[in_flight[k].index] = read(in_flight[k].result);
      queue.finished(in_flight[k].index);
      if (done) done();
      in_flight[k] = std::move(in_flight.back());
      in_flight.pop_back();
      progressed = true;
    }
    if (progressed) continue;
    std::unique_lock<std::mutex> lock(mutex);
    news.wait(lock, [&] { return pending; });
    pending = false;
  }
  return results;
}

std::vector<LoglikelihoodResult> LocalBackend::loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                             const std::function<void()>& done) {
  std::vector<engine::Request> batch;
  for (const LoglikelihoodRequest& q : requests) {
    if (q.context.empty() || q.continuation.empty()) {
      throw_error(ErrorCode::kInvalidArgument, "a log-likelihood request needs a context and a continuation");
    }
    engine::Request r;
    r.prompt_ids = q.context;
    r.prompt_ids.insert(r.prompt_ids.end(), q.continuation.begin(), q.continuation.end());
    r.prompt_logprobs = true;
    r.prompt_logprobs_from = static_cast<std::int64_t>(q.context.size());
    r.sampling.logprobs = 1;  // the top-1 alternative tells whether a token was greedy
    r.sampling.temperature = 0;
    r.max_tokens = 1;  // the engine samples at least one token; it is ignored
    r.ignore_eos = true;
    batch.push_back(std::move(r));
  }
  return run<LoglikelihoodResult>(std::move(batch), done, [](const engine::RequestResult& result) {
    LoglikelihoodResult out;
    if (!result.samples.empty() && !result.samples[0].error.empty()) {
      out.error = result.samples[0].error;
      return out;
    }
    out.greedy = true;
    std::int64_t scored = 0;
    for (const auto& lp : result.prompt_logprobs) {
      if (!lp) continue;
      out.logprob += lp->logprob;
      out.greedy = out.greedy && !lp->top.empty() && lp->top[0].token == lp->token;
      ++scored;
    }
    if (scored == 0) out.error = "the engine returned no prompt logprobs";
    return out;
  });
}

std::vector<GenerationResult> LocalBackend::generate(const std::vector<GenerationRequest>& requests,
                                                     const std::function<void()>& done) {
  std::vector<engine::Request> batch;
  for (const GenerationRequest& g : requests) {
    engine::Request r;
    r.prompt_ids = g.prompt;
    r.stop = g.stop;
    r.max_tokens = g.max_tokens;
    r.sampling.temperature = 0;
    r.eos_token_ids = eos_token_ids_;
    batch.push_back(std::move(r));
  }
  return run<GenerationResult>(std::move(batch), done, [](const engine::RequestResult& result) {
    GenerationResult out;
    if (result.samples.empty()) {
      out.error = "no sample";
    } else if (!result.samples[0].error.empty()) {
      out.error = result.samples[0].error;
    } else {
      out.text = result.samples[0].text;
    }
    return out;
  });
}

std::optional<EngineCounters> LocalBackend::engine_counters() {
  const engine::EngineStats stats = engine_.stats();
  return EngineCounters{stats.cache_queried_tokens, stats.cache_hit_tokens, stats.steps,         stats.rows,
                        stats.schedule_seconds,     stats.model_seconds,    stats.output_seconds};
}

}  // namespace arle::eval
