#pragma once
// PagedKvCache: K and V of every full-attention layer in fixed pages of
// page_size tokens (16 by default), [num_pages, page_size, kv_heads,
// head_dim] per layer. Which page belongs to which sequence is decided
// outside (a sequence's page table); the cache only stores.
// Memory: 2 * attention_layers * kv_heads * head_dim * element size per
// token (float32 on the CPU backend, bf16 on CUDA).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/model_config.h"
#include "tensor/tensor.h"

namespace arle::model {

inline constexpr std::int64_t kDefaultPageSize = 16;

// Where a backend keeps its pages: element type, allocation (default: CPU
// memory) and byte copies between pages (default: memcpy).
struct KvStorage {
  DType dtype = DType::kF32;
  std::function<Tensor(const Shape&, DType)> allocate;
  std::function<void(void* dst, const void* src, std::size_t bytes)> copy;
};

class PagedKvCache {
 public:
  PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size = kDefaultPageSize,
               KvStorage storage = {});

  std::int64_t num_pages() const { return num_pages_; }
  std::int64_t page_size() const { return page_size_; }
  std::int64_t num_layers() const { return static_cast<std::int64_t>(slot_of_layer_.size()); }
  bool has_layer(std::int64_t layer) const { return slot_of_layer_[static_cast<std::size_t>(layer)] >= 0; }
  // K/V of model layer `layer`; throws kInternal for a layer without attention.
  const Tensor& k(std::int64_t layer) const;
  const Tensor& v(std::int64_t layer) const;
  std::size_t bytes() const;
  // Copies page `src` of every layer's K and V over page `dst`.
  void copy_page(std::int32_t src, std::int32_t dst);

  static std::size_t bytes_per_token(const ModelConfig& config, DType dtype = DType::kF32);

 private:
  std::int64_t num_pages_, page_size_;
  std::vector<std::int64_t> slot_of_layer_;  // -1: no attention KV
  std::vector<Tensor> k_, v_;
  KvStorage storage_;
};

// Pages needed to hold `tokens` tokens.
inline std::int64_t pages_for_tokens(std::int64_t tokens, std::int64_t page_size = kDefaultPageSize) {
  return (tokens + page_size - 1) / page_size;
}

}  // namespace arle::model
