#pragma once
// What `arle eval` asks of a model, whether it runs in this process (the
// engine: LocalBackend) or behind an OpenAI-compatible server
// (RemoteBackend): token ids of texts, the log-likelihood of a
// continuation after a context, and greedy completions. Both run a batch of
// requests with a bound on how many are in flight, in prefix_schedule.h's
// order, call `done` as each one ends (progress), and return results in
// request order. A request that
// fails carries its error instead of throwing, so one bad answer leaves the
// rest of the report.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace arle::eval {

struct LoglikelihoodRequest {
  std::vector<std::int32_t> context, continuation;  // both non-empty
};
struct LoglikelihoodResult {
  double logprob = 0;   // sum over the continuation's tokens
  bool greedy = false;  // every continuation token was the top-1 choice
  std::string error;    // non-empty: no result
};

struct GenerationRequest {
  std::vector<std::int32_t> prompt;
  std::vector<std::string> stop;
  std::int64_t max_tokens = 256;
};
struct GenerationResult {
  std::string text;
  std::string error;
};

// Counters of a local engine, to see where an evaluation's time went:
// prompt tokens looked up in the prefix cache and served from it, engine
// steps and the rows they computed, and the steps' wall time by part.
struct EngineCounters {
  std::int64_t queried = 0, hit = 0;
  std::int64_t steps = 0, rows = 0;
  double schedule_seconds = 0, model_seconds = 0, output_seconds = 0;
};

class EvalBackend {
 public:
  virtual ~EvalBackend() = default;
  // For reports: "local <model dir> (<device>)" or "remote <url> <model>".
  virtual std::string describe() const = 0;
  // The model's tokens for each text, without special tokens (a batch: the
  // backends spread it over cores or connections).
  virtual std::vector<std::vector<std::int32_t>> tokenize(const std::vector<std::string>& texts) = 0;
  // The longest sequence (prompt and output) the model takes.
  virtual std::int64_t max_length() const = 0;
  virtual std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                         const std::function<void()>& done) = 0;
  virtual std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests,
                                                 const std::function<void()>& done) = 0;
  virtual std::optional<EngineCounters> engine_counters() { return std::nullopt; }
};

}  // namespace arle::eval
