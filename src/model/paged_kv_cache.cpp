#include "model/paged_kv_cache.h"

#include "common/error.h"

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

}  // namespace arle::model
