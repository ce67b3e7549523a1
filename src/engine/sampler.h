#pragma once
// Sampler: one sequence's token choice from its logits, in vLLM's order:
//   logit_bias -> repetition penalty (prompt + output tokens)
//   -> presence/frequency penalties (output tokens) -> greedy argmax, or
//   temperature -> softmax -> min_p -> top_k -> top_p -> one draw.
// Ties break toward the lower token id so greedy output is reproducible.
// The sampler remembers the tokens it has seen (for penalties) and owns the
// request's random stream (seeded: the same draws every run).

#include <cstdint>
#include <vector>

#include "engine/logprobs.h"
#include "engine/random.h"
#include "engine/sampling_params.h"
#include "model/sampling_row.h"

namespace arle::engine {

struct SampleResult {
  std::int32_t token;
  TokenLogprob logprob;  // filled when params.logprobs >= 0
};

class Sampler {
 public:
  Sampler(SamplingParams params, const std::vector<std::int32_t>& prompt_ids, std::int64_t vocab_size);

  // Picks the next token from logits [vocab_size] and records it as output.
  // `banned` tokens cannot be picked (min_tokens masks EOS this way).
  SampleResult sample(const float* logits, const std::vector<std::int32_t>& banned = {});

  // The same choice made on the model's device: this step's parameters,
  // draw and per-token adjustments (bans, bias, penalties). Takes the
  // request's random draw as sample() would; give the device's pick to
  // accept() afterwards.
  model::SamplingRow device_row(std::int32_t logit_row, const std::vector<std::int32_t>& banned = {});
  // Takes the device's pick as this sample's output (noted for penalties).
  SampleResult accept(model::TokenLogprob device_pick);

  // The filtered, renormalised distribution the next draw would use (for
  // tests): probability per token id, zero outside the kept set.
  std::vector<double> distribution(const float* logits);

  const SamplingParams& params() const { return params_; }

 private:
  // Notes a token as output (for penalties).
  void record(std::int32_t token);
  void process_logits(const float* logits, const std::vector<std::int32_t>& banned, std::vector<float>& out) const;
  // Kept candidates (ids, most likely first unless only min_p applies) and
  // their unnormalised probabilities.
  void filter(const std::vector<float>& processed, std::vector<std::int32_t>& ids, std::vector<double>& probs) const;

  SamplingParams params_;
  std::int64_t vocab_;
  Random random_;
  std::vector<std::uint8_t> seen_;                   // prompt or output, for repetition_penalty
  std::vector<std::int32_t> output_counts_;          // for presence/frequency
  std::vector<std::int32_t> seen_ids_, output_ids_;  // the nonzero entries of those two, for device_row
  std::vector<float> scratch_;
};

}  // namespace arle::engine
