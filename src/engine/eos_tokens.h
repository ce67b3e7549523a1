#pragma once
// The token ids that end a sequence for a model: generation_config.json's
// eos_token_id (else config.json's), plus the tokenizer's EOS, without
// repeats. `arle generate` and `arle serve` stop on the same ids.

#include <cstdint>
#include <vector>

#include "model/generation_config.h"
#include "model/model_config.h"
#include "text/tokenizer.h"

namespace arle::engine {

std::vector<std::int32_t> model_eos_token_ids(const model::ModelConfig& config,
                                              const model::GenerationConfig& generation,
                                              const text::Tokenizer& tokenizer);

}  // namespace arle::engine
