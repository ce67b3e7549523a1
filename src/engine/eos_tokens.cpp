#include "engine/eos_tokens.h"

#include <algorithm>

namespace arle::engine {

std::vector<std::int32_t> model_eos_token_ids(const model::ModelConfig& config,
                                              const model::GenerationConfig& generation,
                                              const text::Tokenizer& tokenizer) {
  std::vector<std::int32_t> ids;
  auto add = [&](std::int64_t id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(static_cast<std::int32_t>(id));
  };
  for (std::int64_t id : generation.eos_token_ids.empty() ? config.eos_token_ids : generation.eos_token_ids) add(id);
  if (tokenizer.eos_id()) add(*tokenizer.eos_id());
  return ids;
}

}  // namespace arle::engine
