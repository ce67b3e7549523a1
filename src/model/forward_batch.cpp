#include "model/forward_batch.h"

#include <algorithm>

#include "common/error.h"
#include "model/paged_kv_cache.h"

namespace arle::model {

void ForwardBatch::add_row(std::int32_t token, std::int64_t position, std::int32_t sequence, bool wants_logits) {
  if (wants_logits) logit_rows.push_back(static_cast<std::int32_t>(token_ids.size()));
  token_ids.push_back(token);
  positions.push_back(position);
  row_sequence.push_back(sequence);
}

namespace {

void validate_state_slots(const ForwardBatch& b, const PagedKvCache& cache) {
  if (b.state_slots.size() != b.page_tables.size()) {
    throw_error(ErrorCode::kInvalidArgument, "batch has {} sequences but {} state slots", b.page_tables.size(),
                b.state_slots.size());
  }
  std::vector<bool> used(static_cast<std::size_t>(cache.state_slots()), false);
  for (const std::int32_t slot : b.state_slots) {
    if (slot < 0 || slot >= cache.state_slots() || used[static_cast<std::size_t>(slot)]) {
      throw_error(ErrorCode::kInvalidArgument, "state slot {} is outside the cache's {} or used twice", slot,
                  cache.state_slots());
    }
    used[static_cast<std::size_t>(slot)] = true;
  }
  std::vector<bool> seen(b.page_tables.size(), false);
  for (std::int64_t r = 0; r < b.rows(); ++r) {
    const std::int32_t s = b.row_sequence[r];
    const bool continues = r > 0 && b.row_sequence[r - 1] == s;
    if (continues ? b.positions[r] != b.positions[r - 1] + 1 : seen[static_cast<std::size_t>(s)]) {
      throw_error(ErrorCode::kInvalidArgument,
                  "row {}: a sequence with recurrent state needs its rows adjacent, at consecutive positions", r);
    }
    seen[static_cast<std::size_t>(s)] = true;
  }
}

}  // namespace

void validate_forward_batch(const ForwardBatch& b, std::int64_t vocab_size, const PagedKvCache& cache) {
  const std::int64_t rows = b.rows();
  if (static_cast<std::int64_t>(b.positions.size()) != rows ||
      static_cast<std::int64_t>(b.row_sequence.size()) != rows) {
    throw_error(ErrorCode::kInvalidArgument, "batch has {} tokens but {} positions and {} sequence indices", rows,
                b.positions.size(), b.row_sequence.size());
  }
  std::vector<std::int64_t> last_page(b.page_tables.size(), -1);  // per sequence: highest page read
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t token = b.token_ids[r];
    if (token < 0 || token >= vocab_size) {
      throw_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary [0, {})", token, vocab_size);
    }
    const std::int32_t s = b.row_sequence[r];
    if (s < 0 || s >= static_cast<std::int32_t>(b.page_tables.size()) || b.page_tables[s] == nullptr) {
      throw_error(ErrorCode::kInvalidArgument, "row {} names sequence {} of {}", r, s, b.page_tables.size());
    }
    const std::int64_t p = b.positions[r];
    if (p < 0 || p / cache.page_size() >= static_cast<std::int64_t>(b.page_tables[s]->size())) {
      throw_error(ErrorCode::kInvalidArgument, "position {} of row {} is outside its {} pages", p, r,
                  b.page_tables[s]->size());
    }
    last_page[s] = std::max(last_page[s], p / cache.page_size());
  }
  for (std::size_t s = 0; s < last_page.size(); ++s) {
    for (std::int64_t i = 0; i <= last_page[s]; ++i) {
      const std::int32_t page = (*b.page_tables[s])[i];
      if (page < 0 || page >= cache.num_pages()) {
        throw_error(ErrorCode::kInvalidArgument, "page {} of sequence {} is outside the cache's {} pages", page, s,
                    cache.num_pages());
      }
    }
  }
  for (std::int32_t r : b.logit_rows) {
    if (r < 0 || r >= rows) throw_error(ErrorCode::kInvalidArgument, "logit row {} of {} rows", r, rows);
  }
  if (cache.has_state()) validate_state_slots(b, cache);
}

}  // namespace arle::model
