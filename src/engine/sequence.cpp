#include "engine/sequence.h"

namespace arle::engine {
namespace {

SamplingParams sample_params(const Request& r, int index) {
  SamplingParams p = r.sampling;
  if (p.seed) p.seed = *p.seed + static_cast<std::uint64_t>(index);
  return p;
}

}  // namespace

Sequence::Sequence(std::shared_ptr<RequestState> s, int i, const text::Tokenizer& tokenizer, std::int64_t vocab)
    : state(std::move(s)),
      index(i),
      tokens(state->request.prompt_ids),
      prompt_len(static_cast<std::int64_t>(tokens.size())),
      sampler(sample_params(state->request, i), state->request.prompt_ids, vocab),
      detokenizer(tokenizer, /*skip_special_tokens=*/true, state->request.prompt_ids),
      stops(state->request.stop) {}

std::vector<std::int32_t> Sequence::banned_tokens() const {
  const Request& r = state->request;
  if (output_len() >= r.min_tokens) return {};
  std::vector<std::int32_t> banned = r.stop_token_ids;
  if (!r.ignore_eos) banned.insert(banned.end(), r.eos_token_ids.begin(), r.eos_token_ids.end());
  return banned;
}

}  // namespace arle::engine
