#pragma once
// PagedKvCache: K and V of every full-attention layer in fixed pages of
// page_size tokens (16 by default), [num_pages, page_size, kv_heads,
// head_dim] per layer. Which page belongs to which sequence is decided
// outside (a sequence's page table); the cache only stores.
// Memory: 2 * attention_layers * kv_heads * head_dim * 4 bytes per token on
// the CPU backend (float32).

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "tensor/tensor.h"

namespace arle::model {

inline constexpr std::int64_t kDefaultPageSize = 16;

class PagedKvCache {
 public:
  PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size = kDefaultPageSize);

  std::int64_t num_pages() const { return num_pages_; }
  std::int64_t page_size() const { return page_size_; }
  std::int64_t num_layers() const { return static_cast<std::int64_t>(slot_of_layer_.size()); }
  bool has_layer(std::int64_t layer) const { return slot_of_layer_[static_cast<std::size_t>(layer)] >= 0; }
  // K/V of model layer `layer`; throws kInternal for a layer without attention.
  const Tensor& k(std::int64_t layer) const;
  const Tensor& v(std::int64_t layer) const;
  std::size_t bytes() const;

  static std::size_t bytes_per_token(const ModelConfig& config);

 private:
  std::int64_t num_pages_, page_size_;
  std::vector<std::int64_t> slot_of_layer_;  // -1: no attention KV
  std::vector<Tensor> k_, v_;
};

// Pages needed to hold `tokens` tokens.
inline std::int64_t pages_for_tokens(std::int64_t tokens, std::int64_t page_size = kDefaultPageSize) {
  return (tokens + page_size - 1) / page_size;
}

}  // namespace arle::model
