#include "eval/local_backend.h"

#include <deque>

#include "common/error.h"

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

std::vector<std::int32_t> LocalBackend::tokenize(const std::string& text) {
  return tokenizer_.encode(text, /*add_special_tokens=*/false);
}

template <typename Result, typename Read>
std::vector<Result> LocalBackend::run(std::vector<engine::Request> requests, const std::vector<std::size_t>& leader,
                                      const std::function<void()>& done, const Read& read) {
  const std::size_t n = requests.size();
  std::vector<Result> results(n);
  std::vector<std::vector<std::size_t>> followers(n);
  std::deque<std::size_t> ready;  // may be submitted now, in this order
  for (std::size_t i = 0; i < n; ++i) {
    if (leader[i] == i) {
      ready.push_back(i);
    } else {
      followers[leader[i]].push_back(i);
    }
  }
  std::deque<std::pair<std::size_t, std::shared_ptr<engine::RequestHandle>>> in_flight;
  while (!ready.empty() || !in_flight.empty()) {
    while (!ready.empty() && static_cast<int>(in_flight.size()) < concurrency_) {
      const std::size_t i = ready.front();
      ready.pop_front();
      requests[i].cache_namespace = cache_namespace_;
      in_flight.emplace_back(i, engine_.submit(std::move(requests[i])));
    }
    auto [index, handle] = std::move(in_flight.front());
    in_flight.pop_front();
    results[index] = read(engine::collect(*handle, 1));
    // A leader's followers go next: its context is in the cache now.
    ready.insert(ready.begin(), followers[index].begin(), followers[index].end());
    if (done) done();
  }
  return results;
}

std::vector<LoglikelihoodResult> LocalBackend::loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                             const std::function<void()>& done) {
  std::vector<engine::Request> batch;
  std::vector<std::size_t> leader;
  for (const LoglikelihoodRequest& q : requests) {
    const std::size_t i = leader.size();
    leader.push_back(i > 0 && requests[i - 1].context == q.context ? leader[i - 1] : i);
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
  return run<LoglikelihoodResult>(std::move(batch), leader, done, [](const engine::RequestResult& result) {
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
  std::vector<std::size_t> leader;
  for (const GenerationRequest& g : requests) {
    leader.push_back(leader.size());
    engine::Request r;
    r.prompt_ids = g.prompt;
    r.stop = g.stop;
    r.max_tokens = g.max_tokens;
    r.sampling.temperature = 0;
    r.eos_token_ids = eos_token_ids_;
    batch.push_back(std::move(r));
  }
  return run<GenerationResult>(std::move(batch), leader, done, [](const engine::RequestResult& result) {
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

std::optional<CacheCounters> LocalBackend::cache_counters() {
  const engine::EngineStats stats = engine_.stats();
  return CacheCounters{stats.cache_queried_tokens, stats.cache_hit_tokens};
}

}  // namespace arle::eval
