#include "engine/model_runner.h"

#include "common/error.h"

namespace arle::engine {

StepLogits ModelRunner::run(const std::vector<ScheduledChunk>& chunks) {
  StepLogits out;
  model::ForwardBatch batch;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const ScheduledChunk& ch = chunks[c];
    Sequence& s = *ch.sequence;
    batch.page_tables.push_back(&s.page_table);
    for (std::int64_t p = ch.begin; p < ch.end; ++p) {
      // Copy-on-write ran at scheduling: the page this row writes is its own.
      const std::int32_t page = s.page_table[static_cast<std::size_t>(p / pool_.page_size())];
      if (pool_.ref_count(page) != 1) throw_error(ErrorCode::kInternal, "row writes shared page {}", page);
      // Logits are needed where the sequence samples next, and for prompt
      // rows of echo requests whose prompt logprobs are not known yet.
      const bool sample = p + 1 == static_cast<std::int64_t>(s.tokens.size());
      const bool prompt_logprob = s.state->request.prompt_logprobs && p + 1 < s.prompt_len &&
                                  p + 1 >= static_cast<std::int64_t>(s.state->prompt_logprobs.size());
      if (sample || prompt_logprob) out.rows.push_back({&s, p, sample, prompt_logprob});
      batch.add_row(s.tokens[static_cast<std::size_t>(p)], p, static_cast<std::int32_t>(c), sample || prompt_logprob);
      (p < s.prompt_len ? out.prefill_rows : out.decode_rows) += 1;
    }
  }
  out.logits = model_.forward(batch, pool_.cache());
  return out;
}

}  // namespace arle::engine
