#include "kernels/cpu/paged_attention.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu/simd_kernels.h"

namespace arle::kernels::cpu {

void paged_attention(const PagedAttentionArgs& a) {
  const SimdKernels& simd = simd_kernels();
  const std::int64_t group = a.q_heads / a.kv_heads;
  const std::int64_t kv_width = a.kv_heads * a.head_dim;
  std::int64_t total_context = 0;
  for (std::int64_t r = 0; r < a.rows; ++r) total_context += a.context_lens[r];
  const std::int64_t work_per_item = std::max<std::int64_t>(1, total_context / std::max<std::int64_t>(a.rows, 1)) * a.head_dim;
  kernel_thread_pool().parallel_for(
      a.rows * a.q_heads, std::max<std::int64_t>(1, 32768 / work_per_item), [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> scores;
        for (std::int64_t item = begin; item < end; ++item) {
          const std::int64_t r = item / a.q_heads, h = item % a.q_heads;
          scores.resize(static_cast<std::size_t>(a.context_lens[r]));
          const std::int64_t head_offset = (h / group) * a.head_dim;
          simd.attend({a.q + r * a.ldq + h * a.head_dim, a.k_cache + head_offset, a.v_cache + head_offset,
                       a.page_tables[r], a.page_size, kv_width, a.head_dim, a.context_lens[r], a.scale, scores.data(),
                       a.out + (r * a.q_heads + h) * a.head_dim});
        }
      });
}

void paged_kv_write(const float* k, const float* v, std::int64_t ld, std::int64_t rows,
                    const std::int32_t* const* page_tables, const std::int64_t* positions, std::int64_t page_size,
                    std::int64_t kv_width, float* k_cache, float* v_cache) {
  const std::size_t bytes = static_cast<std::size_t>(kv_width) * sizeof(float);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t p = positions[r];
    const std::int64_t slot = static_cast<std::int64_t>(page_tables[r][p / page_size]) * page_size + p % page_size;
    std::memcpy(k_cache + slot * kv_width, k + r * ld, bytes);
    std::memcpy(v_cache + slot * kv_width, v + r * ld, bytes);
  }
}

}  // namespace arle::kernels::cpu
