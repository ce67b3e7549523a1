#pragma once
// ModelRunner: turns a step's scheduled chunks into the model's ForwardBatch
// (rows, positions, page tables, which rows need logits), runs forward, and
// says which logits row belongs to which sequence and why. On a model that
// samples on its device, rows that only sample are sampled there (the
// Sampler's device_row), and only prompt-logprob rows' logits come back.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/scheduler.h"
#include "model/causal_lm.h"

namespace arle::engine {

struct LogitRow {
  Sequence* sequence;                         // the sampler: a started sibling has its own row
  std::int64_t position;                      // the token this row computed
  bool sample;                                // the sequence samples its next token from this row
  bool prompt_logprob;                        // gives the logprob of prompt token position + 1
  std::int64_t host_row = -1;                 // its row of StepLogits::logits, when the host needs the logits
  std::optional<TokenLogprob> device_sample;  // the token the model's device picked for it
};

struct StepLogits {
  Tensor logits;  // [rows whose host_row >= 0, vocab]
  std::vector<LogitRow> rows;
  std::int64_t prefill_rows = 0, decode_rows = 0;
};

class ModelRunner {
 public:
  ModelRunner(model::CausalLm& model, KvPool& pool) : model_(model), pool_(pool) {}
  // `forks_of` names the not-yet-started siblings of a sequence whose row
  // starts_forks(); each gets its own logits row. Throws kInternal if a row
  // would write a page its sequence shares.
  StepLogits run(const std::vector<ScheduledChunk>& chunks,
                 const std::function<std::vector<Sequence*>(const Sequence&)>& forks_of);

 private:
  model::CausalLm& model_;
  KvPool& pool_;
};

}  // namespace arle::engine
