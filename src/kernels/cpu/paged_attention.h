#pragma once
// Causal attention of query rows against a paged KV cache, with GQA/MQA.
//
// Cache layout per layer: [num_pages, page_size, kv_heads, head_dim] for K
// and for V. Row r attends to positions [0, context_len[r]) of its own
// sequence, found through page_table[r] (the sequence's page ids in order);
// the caller has already written the row's own K/V at context_len[r] - 1.
// Query head h reads kv head h / (q_heads / kv_heads).
//
// Per (row, head): scores in position order, exact max-subtracted softmax,
// then V summed in position order. Nothing depends on the other rows in the
// batch or on how the prompt was chunked, so results are batch-invariant.

#include <cstdint>

namespace arle::kernels::cpu {

struct PagedAttentionArgs {
  const float* q;  // [rows, q_heads, head_dim], row stride ldq
  std::int64_t ldq;
  const float* k_cache;
  const float* v_cache;
  std::int64_t page_size, q_heads, kv_heads, head_dim;
  const std::int32_t* const* page_tables;  // per row
  const std::int64_t* context_lens;        // per row
  std::int64_t rows;
  float scale;
  float* out;  // [rows, q_heads, head_dim], contiguous
};

void paged_attention(const PagedAttentionArgs& args);

// Writes rows of K and V ([rows, kv_heads * head_dim], row stride ld) into
// the cache slots of their positions.
void paged_kv_write(const float* k, const float* v, std::int64_t ld, std::int64_t rows,
                    const std::int32_t* const* page_tables, const std::int64_t* positions, std::int64_t page_size,
                    std::int64_t kv_width, float* k_cache, float* v_cache);

}  // namespace arle::kernels::cpu
