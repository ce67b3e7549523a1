#include "engine/sampling_params.h"

#include <cmath>

#include "common/error.h"

namespace arle::engine {
namespace {

void require(bool ok, const char* field, double value, const char* range) {
  if (!ok) throw_error(ErrorCode::kInvalidArgument, "{} = {} is out of range: {}", field, value, range);
}

}  // namespace

void validate_sampling_params(const SamplingParams& p, std::int64_t vocab_size) {
  require(std::isfinite(p.temperature) && p.temperature >= 0 && p.temperature <= 100, "temperature", p.temperature,
          "must be in [0, 100]");
  require(p.top_p > 0 && p.top_p <= 1, "top_p", p.top_p, "must be in (0, 1]");
  require(p.top_k >= -1, "top_k", static_cast<double>(p.top_k), "must be -1, 0 (off) or positive");
  require(p.min_p >= 0 && p.min_p <= 1, "min_p", p.min_p, "must be in [0, 1]");
  require(std::isfinite(p.repetition_penalty) && p.repetition_penalty > 0 && p.repetition_penalty <= 100,
          "repetition_penalty", p.repetition_penalty, "must be in (0, 100]");
  require(p.presence_penalty >= -2 && p.presence_penalty <= 2, "presence_penalty", p.presence_penalty,
          "must be in [-2, 2]");
  require(p.frequency_penalty >= -2 && p.frequency_penalty <= 2, "frequency_penalty", p.frequency_penalty,
          "must be in [-2, 2]");
  require(p.logprobs >= -1 && p.logprobs <= kMaxLogprobs, "logprobs", p.logprobs, "must be in [0, 20]");
  for (const auto& [token, bias] : p.logit_bias) {
    if (token < 0 || token >= vocab_size) {
      throw_error(ErrorCode::kInvalidArgument, "logit_bias names token {} outside the vocabulary [0, {})", token,
                  vocab_size);
    }
    require(bias >= -100 && bias <= 100, "logit_bias value", bias, "must be in [-100, 100]");
  }
}

}  // namespace arle::engine
