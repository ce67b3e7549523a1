#include "model/paged_kv_cache.h"

#include <cstring>

#include "common/error.h"

namespace arle::model {

PagedKvCache::PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size,
                           KvStorage storage)
    : num_pages_(num_pages), page_size_(page_size), storage_(std::move(storage)) {
  if (!storage_.allocate) storage_.allocate = [](const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype); };
  if (!storage_.copy) storage_.copy = [](void* dst, const void* src, std::size_t n) { std::memcpy(dst, src, n); };
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
    k_.push_back(storage_.allocate(shape, storage_.dtype));
    v_.push_back(storage_.allocate(shape, storage_.dtype));
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

void PagedKvCache::copy_page(std::int32_t src, std::int32_t dst) {
  if (src < 0 || dst < 0 || src >= num_pages_ || dst >= num_pages_) {
    throw_error(ErrorCode::kInternal, "copy_page {} -> {} outside {} pages", src, dst, num_pages_);
  }
  for (std::vector<Tensor>* tensors : {&k_, &v_}) {
    for (const Tensor& t : *tensors) {
      const std::size_t page_bytes = t.nbytes() / static_cast<std::size_t>(num_pages_);
      auto* base = static_cast<std::uint8_t*>(t.raw_data());
      storage_.copy(base + page_bytes * static_cast<std::size_t>(dst), base + page_bytes * static_cast<std::size_t>(src),
                    page_bytes);
    }
  }
}

std::size_t PagedKvCache::bytes_per_token(const ModelConfig& config, DType dtype) {
  std::size_t layers = 0;
  for (LayerType t : config.layer_types) layers += t == LayerType::kFullAttention ? 1 : 0;
  return 2 * layers * static_cast<std::size_t>(config.kv_size()) * dtype_size(dtype);
}

}  // namespace arle::model
