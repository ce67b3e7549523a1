#include "engine/state_pool.h"

#include <algorithm>

#include "common/error.h"

namespace arle::engine {
namespace {

struct LayerFloats {
  std::int64_t recurrent = 0, window = 0;
};

LayerFloats per_layer(const model::ModelConfig& c) {
  const auto& l = c.linear;
  const std::int64_t channels = 2 * l.num_key_heads * l.key_head_dim + l.num_value_heads * l.value_head_dim;
  return {l.num_value_heads * l.key_head_dim * l.value_head_dim,
          std::max<std::int64_t>(l.conv_kernel_dim - 1, 0) * channels};
}

std::int64_t count_linear_layers(const model::ModelConfig& c) {
  return std::count(c.layer_types.begin(), c.layer_types.end(), model::LayerType::kLinearAttention);
}

}  // namespace

std::int64_t StatePool::floats_per_slot(const model::ModelConfig& config) {
  const LayerFloats f = per_layer(config);
  return count_linear_layers(config) * (f.recurrent + f.window);
}

StatePool::StatePool(const model::ModelConfig& config, std::int64_t slots)
    : slots_(slots), linear_layers_(count_linear_layers(config)) {
  if (slots < 0 || slots > (1 << 20)) throw_error(ErrorCode::kInvalidArgument, "state pool of {} slots", slots);
  const LayerFloats f = per_layer(config);
  recurrent_floats_ = f.recurrent;
  window_floats_ = f.window;
  values_.assign(static_cast<std::size_t>(slots * floats_per_slot(config)), 0.0f);
  taken_.assign(static_cast<std::size_t>(slots), false);
  for (std::int64_t s = slots; s-- > 0;) free_.push_back(static_cast<std::int32_t>(s));
}

std::int32_t StatePool::allocate() {
  if (free_.empty()) return -1;
  const std::int32_t slot = free_.back();
  free_.pop_back();
  taken_[static_cast<std::size_t>(slot)] = true;
  const std::int64_t per_slot = linear_layers_ * (recurrent_floats_ + window_floats_);
  std::fill_n(values_.begin() + slot * per_slot, per_slot, 0.0f);
  return slot;
}

void StatePool::release(std::int32_t slot) {
  if (slot < 0 || slot >= slots_ || !taken_[static_cast<std::size_t>(slot)]) {
    throw_error(ErrorCode::kInternal, "release of state slot {}, which is not taken", slot);
  }
  taken_[static_cast<std::size_t>(slot)] = false;
  free_.push_back(slot);
}

float* StatePool::layer_base(std::int32_t slot, std::int64_t layer) {
  if (slot < 0 || slot >= slots_ || !taken_[static_cast<std::size_t>(slot)] || layer < 0 || layer >= linear_layers_) {
    throw_error(ErrorCode::kInternal, "state slot {} layer {} is not in use", slot, layer);
  }
  const std::int64_t per_layer_floats = recurrent_floats_ + window_floats_;
  return values_.data() + (slot * linear_layers_ + layer) * per_layer_floats;
}

float* StatePool::recurrent(std::int32_t slot, std::int64_t layer) { return layer_base(slot, layer); }

float* StatePool::conv_window(std::int32_t slot, std::int64_t layer) {
  return layer_base(slot, layer) + recurrent_floats_;
}

}  // namespace arle::engine
