#pragma once
// Test-only: a CausalLm that runs a real model (so the engine, KV cache and
// prefix cache behave as in production) but forces greedy decoding to emit
// scripted replies: each new sequence emits the next reply of the queue,
// token by token, then the end token. The agent runs one request at a time;
// a sampled row that does not continue the previous one (another page table,
// or not the next position) starts a new sequence. An empty queue keeps the
// real model's logits.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::testing {

class ReplyQueueModel : public model::CausalLm {
 public:
  ReplyQueueModel(std::unique_ptr<model::CausalLm> inner, const text::Tokenizer& tokenizer, std::int32_t end_token)
      : inner_(std::move(inner)), tokenizer_(tokenizer), end_token_(end_token) {}
  const model::ModelConfig& config() const override { return inner_->config(); }
  std::size_t weight_bytes() const override { return inner_->weight_bytes(); }
  void push(const std::string& reply) { replies_.push_back(reply); }
  std::size_t pending() const { return replies_.size(); }

  Tensor forward(const model::ForwardBatch& batch, model::PagedKvCache& cache) override {
    Tensor logits = inner_->forward(batch, cache);
    const std::int64_t vocab = logits.shape()[1];
    for (std::size_t i = 0; i < batch.logit_rows.size(); ++i) {
      const auto r = static_cast<std::size_t>(batch.logit_rows[i]);
      const auto* table = batch.page_tables[static_cast<std::size_t>(batch.row_sequence[r])];
      const std::int64_t position = batch.positions[r];
      if (table != table_ || position != next_position_) {
        script_.clear();
        emitted_ = 0;
        if (!replies_.empty()) {
          script_ = tokenizer_.encode(replies_.front(), /*add_special_tokens=*/false);
          script_.push_back(end_token_);
          replies_.pop_front();
        }
      }
      table_ = table;
      next_position_ = position + 1;
      if (script_.empty()) continue;
      const std::int32_t token = emitted_ < script_.size() ? script_[emitted_] : end_token_;
      ++emitted_;
      float* row = logits.data<float>() + static_cast<std::int64_t>(i) * vocab;
      std::fill(row, row + vocab, -30.0f);
      row[token] = 30.0f;
    }
    return logits;
  }

 private:
  std::unique_ptr<model::CausalLm> inner_;
  const text::Tokenizer& tokenizer_;
  std::int32_t end_token_;
  std::deque<std::string> replies_;
  const std::vector<std::int32_t>* table_ = nullptr;
  std::int64_t next_position_ = -1;
  std::vector<std::int32_t> script_;
  std::size_t emitted_ = 0;
};

}  // namespace arle::testing
