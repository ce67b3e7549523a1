#include "engine/model_runner.h"

#include "common/error.h"

namespace arle::engine {

StepLogits ModelRunner::run(const std::vector<ScheduledChunk>& chunks,
                            const std::function<std::vector<Sequence*>(const Sequence&)>& forks_of) {
  StepLogits out;
  model::ForwardBatch batch;
  const bool on_device = model_.samples_on_device();
  std::vector<std::int32_t> host_rows;
  std::vector<model::SamplingRow> sampled;
  std::vector<std::size_t> device_rows;  // out.rows index of each sampled row
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const ScheduledChunk& ch = chunks[c];
    Sequence& s = *ch.sequence;
    batch.page_tables.push_back(&s.page_table);
    if (s.state_slot >= 0) batch.state_slots.push_back(s.state_slot);
    for (std::int64_t p = ch.begin; p < ch.end; ++p) {
      // Copy-on-write ran at scheduling: the page this row writes is its own.
      const std::int32_t page = s.page_table[static_cast<std::size_t>(p / pool_.page_size())];
      if (pool_.ref_count(page) != 1) throw_error(ErrorCode::kInternal, "row writes shared page {}", page);
      // Logits are needed where the sequence samples next, and for prompt
      // rows of echo requests whose prompt logprobs are not known yet.
      const bool sample = p + 1 == static_cast<std::int64_t>(s.tokens.size());
      const bool prompt_logprob = s.state->request.prompt_logprobs && p + 1 < s.prompt_len &&
                                  p + 1 >= static_cast<std::int64_t>(s.state->prompt_logprobs.size());
      if (sample || prompt_logprob) {
        // A first sample that starts its siblings gives each its own copy
        // of the row: every sample draws from the same logits, alone.
        std::vector<Sequence*> samplers{&s};
        if (sample && s.starts_forks()) {
          const std::vector<Sequence*> forks = forks_of(s);
          samplers.insert(samplers.end(), forks.begin(), forks.end());
        }
        for (Sequence* each : samplers) {
          const auto logit_row = static_cast<std::int32_t>(batch.logit_rows.size());
          batch.logit_rows.push_back(static_cast<std::int32_t>(batch.rows()));
          LogitRow row{each, p, sample, prompt_logprob};
          if (on_device && sample && !prompt_logprob) {
            sampled.push_back(each->sampler.device_row(logit_row, each->banned_tokens()));
            device_rows.push_back(out.rows.size());
          } else {
            row.host_row = static_cast<std::int64_t>(host_rows.size());
            host_rows.push_back(logit_row);
          }
          out.rows.push_back(std::move(row));
        }
      }
      batch.add_row(s.tokens[static_cast<std::size_t>(p)], p, static_cast<std::int32_t>(c), false);
      (p < s.prompt_len ? out.prefill_rows : out.decode_rows) += 1;
    }
  }
  if (!on_device) {
    out.logits = model_.forward(batch, pool_.cache());
    return out;
  }
  model::CausalLm::StepOutput step = model_.forward_and_sample(batch, pool_.cache(), host_rows, sampled);
  out.logits = std::move(step.logits);
  for (std::size_t i = 0; i < device_rows.size(); ++i)
    out.rows[device_rows[i]].device_sample = std::move(step.sampled[i]);
  return out;
}

}  // namespace arle::engine
