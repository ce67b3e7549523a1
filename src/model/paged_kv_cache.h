#pragma once
// PagedKvCache: what a model keeps between steps for its sequences.
//  - K and V of every full-attention layer in fixed pages of page_size
//    tokens (16 by default), [num_pages, page_size, kv_heads, head_dim] per
//    layer. Which page belongs to which sequence is decided outside (a
//    sequence's page table); the cache only stores. Memory: 2 *
//    attention_layers * kv_heads * head_dim * element size per token
//    (float32 on the CPU backend, bf16 on CUDA).
//  - The recurrent state of every linear-attention (Gated DeltaNet) layer of
//    hybrid models, in `state_slots` slots, one per running sequence (the
//    engine's StatePool hands them out): the float32 delta-rule state
//    [slots, value heads, key_dim, value_dim] and the conv window [slots,
//    conv_kernel - 1, conv channels] (kernels/cpu/gated_delta_rule.h,
//    causal_conv1d.h). Unlike pages, a slot is not shared and not indexed
//    by position: it holds everything the sequence has seen.
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
  std::function<void(void* dst, std::size_t bytes)> zero;  // default: memset
};

class PagedKvCache {
 public:
  PagedKvCache(const ModelConfig& config, std::int64_t num_pages, std::int64_t page_size = kDefaultPageSize,
               KvStorage storage = {}, std::int64_t state_slots = 0);

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

  // Recurrent state (models with linear-attention layers; see above).
  bool has_state() const { return !recurrent_.empty(); }
  std::int64_t state_slots() const { return state_slots_; }
  // Of model layer `layer`; throws kInternal for a layer without state.
  const Tensor& recurrent_state(std::int64_t layer) const;
  const Tensor& conv_window(std::int64_t layer) const;
  // Zeroes every layer's state in `slot` (a sequence that has seen nothing).
  void zero_state(std::int32_t slot);
  // Copies every layer's state in `src` over `dst` (a fork of a sequence).
  void copy_state(std::int32_t src, std::int32_t dst);
  // Float32 values of one slot over all layers (0 without linear attention).
  static std::int64_t state_floats_per_slot(const ModelConfig& config);

  static std::size_t bytes_per_token(const ModelConfig& config, DType dtype = DType::kF32);

 private:
  std::int64_t num_pages_, page_size_;
  std::vector<std::int64_t> slot_of_layer_;  // -1: no attention KV
  std::vector<Tensor> k_, v_;
  // fn(tensor base, bytes of one slot) for every state tensor.
  void for_each_state_slot(const std::function<void(std::uint8_t* base, std::size_t slot_bytes)>& fn);

  std::int64_t state_slots_ = 0;
  std::vector<std::int64_t> state_of_layer_;  // -1: no recurrent state
  std::vector<Tensor> recurrent_, conv_;      // per linear-attention layer
  KvStorage storage_;
};

// Pages needed to hold `tokens` tokens.
inline std::int64_t pages_for_tokens(std::int64_t tokens, std::int64_t page_size = kDefaultPageSize) {
  return (tokens + page_size - 1) / page_size;
}

}  // namespace arle::model
