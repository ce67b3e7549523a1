#pragma once
// Test-only: a CausalLm that runs a real model (so the engine, KV cache and
// server behave as in production) but replaces the logits so that greedy
// decoding emits a script the prompt carries: the text between the last
// "<<<" and the last ">>>" of a sequence's prompt is tokenized (special tokens
// included) and emitted token by token, then the end token. Sequences without a
// script keep the real model's logits.
//
// Sequences are told apart by their page table (stable for a sequence's
// life) and recognized as new when a row at position 0 arrives, so the
// server must run without the prefix cache (a cached prefix hides the
// prompt's first rows). Echo requests are not supported.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::testing {

class ScriptedModel : public model::CausalLm {
 public:
  ScriptedModel(std::unique_ptr<model::CausalLm> inner, const text::Tokenizer& tokenizer, std::int32_t end_token);
  const model::ModelConfig& config() const override { return inner_->config(); }
  Tensor forward(const model::ForwardBatch& batch, model::PagedKvCache& cache) override;
  std::size_t weight_bytes() const override { return inner_->weight_bytes(); }

 private:
  struct Track {
    std::vector<std::int32_t> tokens;  // every row seen, in position order
    bool scripted = false;
    std::int64_t first_output_position = 0;
    std::vector<std::int32_t> script;
  };
  // The script's token for the row at `position`, or -1 to keep the logits.
  std::int32_t scripted_token(Track& track, std::int64_t position);

  std::unique_ptr<model::CausalLm> inner_;
  const text::Tokenizer& tokenizer_;
  std::int32_t end_token_;
  std::map<const std::vector<std::int32_t>*, Track> tracks_;
};

}  // namespace arle::testing
