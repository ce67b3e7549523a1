#pragma once
// EvalBackend on any OpenAI-compatible server, the way lm-evaluation-
// harness's local-completions model asks: tokens from the server's
// /tokenize (its max_model_len too), log-likelihoods from /v1/completions
// with the token ids as the prompt, echo, logprobs 1 and max_tokens 1 (the
// continuation's entries of the echoed prompt logprobs are summed; greedy
// when each token is its position's top alternative), completions with
// temperature 0 and the task's stop strings. `concurrency` requests in
// flight, in prefix_schedule.h's order, each retried on 429/503
// (http_client.h).

#include <string>

#include "eval/eval_backend.h"
#include "net/http_client.h"

namespace arle::eval {

class RemoteBackend final : public EvalBackend {
 public:
  // base_url as OpenAI clients take it (http://HOST:PORT/v1); /tokenize is
  // at the server's root. Asks /tokenize once for max_model_len; throws
  // kIo when the server does not answer.
  RemoteBackend(const std::string& base_url, std::string model, std::string api_key, int concurrency, net::RetryPolicy retry,
                std::uint64_t seed);
  std::string describe() const override { return description_; }
  std::vector<std::vector<std::int32_t>> tokenize(const std::vector<std::string>& texts) override;
  std::int64_t max_length() const override { return max_length_; }
  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 const std::function<void()>& done) override;
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests,
                                         const std::function<void()>& done) override;

 private:
  // POSTs to the API (v1 path) or the server root; the parsed JSON body of a
  // 200, else an error naming the status and the server's message.
  std::string post(bool api, const std::string& path, const std::string& body, std::string& error) const;
  std::vector<std::int32_t> tokenize_one(const std::string& text) const;
  // Calls call(i) for each request i on concurrency_ threads, followers
  // after their leaders (prefix_schedule.h), so the server's prefix cache
  // serves what they share.
  template <typename Result, typename Call>
  std::vector<Result> parallel(const std::vector<std::size_t>& leader, const std::function<void()>& done,
                               const Call& call);

  net::HttpTarget api_, root_;
  std::string model_, api_key_, description_;
  int concurrency_;
  net::RetryPolicy retry_;
  std::uint64_t seed_;
  std::int64_t max_length_ = 0;
};

}  // namespace arle::eval
