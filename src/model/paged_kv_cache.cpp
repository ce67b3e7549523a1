#include "model/paged_kv_cache.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace arle::model {

namespace {

struct StateShapes {
  Shape recurrent, conv;  // without the leading slot dimension
};

StateShapes state_shapes(const ModelConfig& c) {
  const auto& l = c.linear;
  const std::int64_t channels = 2 * l.num_key_heads * l.key_head_dim + l.num_value_heads * l.value_head_dim;
  return {{l.num_value_heads, l.key_head_dim, l.value_head_dim},
          {std::max<std::int64_t>(l.conv_kernel_dim - 1, 0), channels}};
}

std::int64_t elements(const Shape& shape) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

Shape with_slots(std::int64_t slots, const Shape& shape) {
  Shape out{slots};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

}  // namespace

PagedKvCache::PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size, KvStorage storage,
                           std::int64_t state_slots)
    : num_pages_(num_pages), page_size_(page_size), storage_(std::move(storage)) {
  if (!storage_.allocate)
    storage_.allocate = [](const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype); };
  if (!storage_.copy) storage_.copy = [](void* dst, const void* src, std::size_t n) { std::memcpy(dst, src, n); };
  if (!storage_.zero) storage_.zero = [](void* dst, std::size_t n) { std::memset(dst, 0, n); };
  if (num_pages <= 0 || page_size <= 0) {
    throw_error(ErrorCode::kInvalidArgument, "KV cache needs positive page count and size, got {} x {}", num_pages,
                page_size);
  }
  if (state_slots < 0 || state_slots > (1 << 20)) {
    throw_error(ErrorCode::kInvalidArgument, "KV cache with {} state slots", state_slots);
  }
  state_slots_ = state_slots;
  const StateShapes shapes = state_shapes(config);
  for (std::int64_t layer = 0; layer < config.num_layers; ++layer) {
    const LayerType type = config.layer_types[static_cast<std::size_t>(layer)];
    state_of_layer_.push_back(-1);
    if (type == LayerType::kLinearAttention && state_slots > 0) {
      state_of_layer_.back() = static_cast<std::int64_t>(recurrent_.size());
      // Zeroed per slot when the slot is handed out (zero_state).
      recurrent_.push_back(storage_.allocate(with_slots(state_slots, shapes.recurrent), DType::kF32));
      conv_.push_back(storage_.allocate(with_slots(state_slots, shapes.conv), DType::kF32));
    }
    if (type != LayerType::kFullAttention) {
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
  for (std::size_t i = 0; i < recurrent_.size(); ++i) total += recurrent_[i].nbytes() + conv_[i].nbytes();
  return total;
}

const Tensor& PagedKvCache::recurrent_state(std::int64_t layer) const {
  if (layer < 0 || layer >= static_cast<std::int64_t>(state_of_layer_.size()) || state_of_layer_[layer] < 0) {
    throw_error(ErrorCode::kInternal, "layer {} has no recurrent state", layer);
  }
  return recurrent_[static_cast<std::size_t>(state_of_layer_[layer])];
}

const Tensor& PagedKvCache::conv_window(std::int64_t layer) const {
  recurrent_state(layer);  // range check
  return conv_[static_cast<std::size_t>(state_of_layer_[layer])];
}

void PagedKvCache::for_each_state_slot(const std::function<void(std::uint8_t* base, std::size_t slot_bytes)>& fn) {
  for (std::vector<Tensor>* tensors : {&recurrent_, &conv_}) {
    for (const Tensor& t : *tensors) {
      fn(static_cast<std::uint8_t*>(t.raw_data()), t.nbytes() / static_cast<std::size_t>(state_slots_));
    }
  }
}

void PagedKvCache::zero_state(std::int32_t slot) {
  if (slot < 0 || slot >= state_slots_) {
    throw_error(ErrorCode::kInternal, "state slot {} outside {} slots", slot, state_slots_);
  }
  for_each_state_slot([&](std::uint8_t* base, std::size_t bytes) {
    storage_.zero(base + bytes * static_cast<std::size_t>(slot), bytes);
  });
}

void PagedKvCache::copy_state(std::int32_t src, std::int32_t dst) {
  if (src < 0 || dst < 0 || src >= state_slots_ || dst >= state_slots_) {
    throw_error(ErrorCode::kInternal, "copy_state {} -> {} outside {} slots", src, dst, state_slots_);
  }
  for_each_state_slot([&](std::uint8_t* base, std::size_t bytes) {
    storage_.copy(base + bytes * static_cast<std::size_t>(dst), base + bytes * static_cast<std::size_t>(src), bytes);
  });
}

std::int64_t PagedKvCache::state_floats_per_slot(const ModelConfig& config) {
  const StateShapes shapes = state_shapes(config);
  const auto linear = std::count(config.layer_types.begin(), config.layer_types.end(), LayerType::kLinearAttention);
  return linear * (elements(shapes.recurrent) + elements(shapes.conv));
}

void PagedKvCache::copy_page(std::int32_t src, std::int32_t dst) {
  if (src < 0 || dst < 0 || src >= num_pages_ || dst >= num_pages_) {
    throw_error(ErrorCode::kInternal, "copy_page {} -> {} outside {} pages", src, dst, num_pages_);
  }
  for (std::vector<Tensor>* tensors : {&k_, &v_}) {
    for (const Tensor& t : *tensors) {
      const std::size_t page_bytes = t.nbytes() / static_cast<std::size_t>(num_pages_);
      auto* base = static_cast<std::uint8_t*>(t.raw_data());
      storage_.copy(base + page_bytes * static_cast<std::size_t>(dst),
                    base + page_bytes * static_cast<std::size_t>(src), page_bytes);
    }
  }
}

std::size_t PagedKvCache::bytes_per_token(const ModelConfig& config, DType dtype) {
  std::size_t layers = 0;
  for (LayerType t : config.layer_types) layers += t == LayerType::kFullAttention ? 1 : 0;
  return 2 * layers * static_cast<std::size_t>(config.kv_size()) * dtype_size(dtype);
}

}  // namespace arle::model
