#include "model/paged_kv_cache.h"

#include <algorithm>

#include "common/error.h"
#include "model/forward_batch.h"

namespace arle::model {

PagedKvCache::PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size)
    : num_pages_(num_pages), page_size_(page_size) {
  if (num_pages <= 0 || page_size <= 0) {
    throw_error(ErrorCode::kInvalidArgument, "KV cache needs positive page count and size, got {} x {}", num_pages,
                page_size);
  }
  for (std::int64_t layer = 0; layer < config.num_layers; ++layer) {
    if (config.layer_types[static_cast<std::size_t>(layer)] != LayerType::kFullAttention) {
      slot_of_layer_.push_back(-1);
      continue;
    }
    slot_of_layer_.push_back(static_cast<std::int64_t>(k_.size()));
    // Not zeroed: a slot is always written before it is read, and untouched
    // pages of a large pool then cost no resident memory.
    const Shape shape{num_pages, page_size, config.num_kv_heads, config.head_dim};
    k_.push_back(Tensor::empty(shape, DType::kF32));
    v_.push_back(Tensor::empty(shape, DType::kF32));
  }
}

const Tensor& PagedKvCache::k(std::int64_t layer) const {
  if (layer < 0 || layer >= static_cast<std::int64_t>(slot_of_layer_.size()) || slot_of_layer_[layer] < 0) {
    throw_error(ErrorCode::kInternal, "layer {} has no KV cache", layer);
  }
  return k_[static_cast<std::size_t>(slot_of_layer_[layer])];
}

const Tensor& PagedKvCache::v(std::int64_t layer) const {
  k(layer);  // range check
  return v_[static_cast<std::size_t>(slot_of_layer_[layer])];
}

std::size_t PagedKvCache::bytes() const {
  std::size_t total = 0;
  for (const Tensor& t : k_) total += 2 * t.nbytes();
  return total;
}

std::size_t PagedKvCache::bytes_per_token(const ModelConfig& config) {
  std::size_t layers = 0;
  for (LayerType t : config.layer_types) layers += t == LayerType::kFullAttention ? 1 : 0;
  return 2 * layers * static_cast<std::size_t>(config.kv_size()) * sizeof(float);
}

void ForwardBatch::add_row(std::int32_t token, std::int64_t position, std::int32_t sequence, bool wants_logits) {
  if (wants_logits) logit_rows.push_back(static_cast<std::int32_t>(token_ids.size()));
  token_ids.push_back(token);
  positions.push_back(position);
  row_sequence.push_back(sequence);
}

void validate_forward_batch(const ForwardBatch& b, std::int64_t vocab_size, const PagedKvCache& cache) {
  const std::int64_t rows = b.rows();
  if (static_cast<std::int64_t>(b.positions.size()) != rows || static_cast<std::int64_t>(b.row_sequence.size()) != rows) {
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
}

}  // namespace arle::model
