#include "scripted_model.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace arle::testing {

ScriptedModel::ScriptedModel(std::unique_ptr<model::CausalLm> inner, const text::Tokenizer& tokenizer,
                             std::int32_t end_token)
    : inner_(std::move(inner)), tokenizer_(tokenizer), end_token_(end_token) {}

std::int32_t ScriptedModel::scripted_token(Track& track, std::int64_t position) {
  if (!track.scripted) {
    // The first sampling row ends the prompt: look for its script.
    track.scripted = true;
    track.first_output_position = position;
    const std::string prompt = tokenizer_.decode(track.tokens);
    auto open = prompt.rfind("<<<");
    // "<<<<think>" opens with "<<<" and the script starts at "<think>".
    while (open != std::string::npos && open > 0 && prompt[open - 1] == '<') --open;
    const auto close = prompt.rfind(">>>");  // the script may end in ">"
    if (open != std::string::npos && close != std::string::npos && close >= open + 3) {
      track.script = tokenizer_.encode(prompt.substr(open + 3, close - open - 3),
                                       /*add_special_tokens=*/false);
      track.script.push_back(end_token_);
    }
  }
  if (track.script.empty()) return -1;
  const auto k = static_cast<std::size_t>(position - track.first_output_position);
  return k < track.script.size() ? track.script[k] : end_token_;
}

Tensor ScriptedModel::forward(const model::ForwardBatch& batch, model::PagedKvCache& cache) {
  Tensor logits = inner_->forward(batch, cache);
  // Follow every sequence's tokens; a row at position 0 starts a new one.
  for (std::int64_t r = 0; r < batch.rows(); ++r) {
    const auto* table = batch.page_tables[static_cast<std::size_t>(batch.row_sequence[static_cast<std::size_t>(r)])];
    const std::int64_t position = batch.positions[static_cast<std::size_t>(r)];
    Track& track = tracks_[table];
    if (position == 0) track = Track{};
    if (position != static_cast<std::int64_t>(track.tokens.size())) continue;  // a fork or a cached prefix: untracked
    track.tokens.push_back(batch.token_ids[static_cast<std::size_t>(r)]);
  }
  const std::int64_t vocab = logits.shape()[1];
  for (std::size_t i = 0; i < batch.logit_rows.size(); ++i) {
    const auto r = static_cast<std::size_t>(batch.logit_rows[i]);
    const auto* table = batch.page_tables[static_cast<std::size_t>(batch.row_sequence[r])];
    Track& track = tracks_[table];
    if (batch.positions[r] + 1 != static_cast<std::int64_t>(track.tokens.size())) continue;
    const std::int32_t token = scripted_token(track, batch.positions[r]);
    if (token < 0) continue;
    if (token >= vocab) throw_error(ErrorCode::kInternal, "scripted token {} is outside the vocabulary", token);
    float* row = logits.data<float>() + static_cast<std::int64_t>(i) * vocab;
    std::fill(row, row + vocab, -30.0f);
    row[token] = 30.0f;
  }
  return logits;
}

}  // namespace arle::testing
