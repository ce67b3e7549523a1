#pragma once
// EvalBackend on the engine in this process. Requests go in order, at most
// `concurrency` in flight. A continuation is scored with prompt logprobs
// from where its context ends, so the prefix cache may serve the whole
// context (Request::prompt_logprobs_from): of adjacent requests with the
// same context (a question's choices), the first goes alone and the others
// follow once it is done, reading the context from the cache; later
// questions find the shared few-shot examples there too.

#include <memory>
#include <string>

#include "engine/engine.h"
#include "eval/eval_backend.h"
#include "text/tokenizer.h"

namespace arle::eval {

class LocalBackend final : public EvalBackend {
 public:
  // `engine` and `tokenizer` outlive the backend.
  LocalBackend(engine::Engine& engine, const text::Tokenizer& tokenizer, std::vector<std::int32_t> eos_token_ids,
               std::int64_t max_length, std::string description, std::string cache_namespace, int concurrency);
  std::string describe() const override { return description_; }
  std::int64_t max_length() const override { return max_length_; }
  std::vector<std::int32_t> tokenize(const std::string& text) override;
  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 const std::function<void()>& done) override;
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests,
                                         const std::function<void()>& done) override;
  std::optional<CacheCounters> cache_counters() override;

 private:
  // Submits requests in order with at most concurrency_ in flight; request
  // i waits for request leader[i] to finish when that is not i itself.
  // `read` turns each finished one into its result.
  template <typename Result, typename Read>
  std::vector<Result> run(std::vector<engine::Request> requests, const std::vector<std::size_t>& leader,
                          const std::function<void()>& done, const Read& read);

  engine::Engine& engine_;
  const text::Tokenizer& tokenizer_;
  std::vector<std::int32_t> eos_token_ids_;
  std::int64_t max_length_;
  std::string description_, cache_namespace_;
  int concurrency_;
};

}  // namespace arle::eval
