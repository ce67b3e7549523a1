#pragma once
// ModelRunner: turns a step's scheduled chunks into the model's ForwardBatch
// (rows, positions, page tables, which rows need logits), runs forward, and
// says which logits row belongs to which sequence and why. The CUDA backend
// will keep its graphs and device-side metadata here.

#include <cstdint>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/scheduler.h"
#include "model/causal_lm.h"

namespace arle::engine {

struct LogitRow {
  Sequence* sequence;
  std::int64_t position;  // the token this row computed
  bool sample;            // the sequence samples its next token from this row
  bool prompt_logprob;    // gives the logprob of prompt token position + 1
};

struct StepLogits {
  Tensor logits;  // [rows.size(), vocab]
  std::vector<LogitRow> rows;
  std::int64_t prefill_rows = 0, decode_rows = 0;
};

class ModelRunner {
 public:
  ModelRunner(model::CausalLm& model, KvPool& pool) : model_(model), pool_(pool) {}
  // Throws kInternal if a row would write a page its sequence shares.
  StepLogits run(const std::vector<ScheduledChunk>& chunks);

 private:
  model::CausalLm& model_;
  KvPool& pool_;
};

}  // namespace arle::engine
