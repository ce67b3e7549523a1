#pragma once
// EvalBackend on the engine in this process, at most `concurrency`
// requests in flight, in prefix_schedule.h's order. A continuation is
// scored with prompt logprobs from where its context ends, so the prefix
// cache may serve the whole context (Request::prompt_logprobs_from): a
// question's later choices read it from there, and later questions the
// shared few-shot examples.

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
  std::vector<std::vector<std::int32_t>> tokenize(const std::vector<std::string>& texts) override;
  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 const std::function<void()>& done) override;
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests,
                                         const std::function<void()>& done) override;
  std::optional<EngineCounters> engine_counters() override;

 private:
  // Submits requests with at most concurrency_ in flight, followers after
  // their leaders; `read` turns each finished one into its result.
  template <typename Result, typename Read>
  std::vector<Result> run(std::vector<engine::Request> requests, const std::function<void()>& done, const Read& read);

  engine::Engine& engine_;
  const text::Tokenizer& tokenizer_;
  std::vector<std::int32_t> eos_token_ids_;
  std::int64_t max_length_;
  std::string description_, cache_namespace_;
  int concurrency_;
};

}  // namespace arle::eval
