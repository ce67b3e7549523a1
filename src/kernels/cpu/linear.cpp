#include "kernels/cpu/linear.h"

#include <algorithm>

#include "common/thread_pool.h"
#include "kernels/cpu/simd_kernels.h"

namespace arle::kernels::cpu {
namespace {

// Below this many multiply-adds a parallel_for costs more than it saves.
constexpr std::int64_t kMinParallelWork = 1 << 16;
constexpr std::int64_t kRowBlock = 64;
// Columns per block: a multiple of every ISA's register tile (3 and 4).
constexpr std::int64_t kColBlock = 48;

}  // namespace

void linear(const float* x, std::int64_t ldx, std::int64_t m, const float* w, std::int64_t n, std::int64_t k,
            const float* bias, float* out, std::int64_t ldo) {
  if (m <= 0 || n <= 0) return;
  const SimdKernels& simd = simd_kernels();
  auto add_bias = [&](std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1) {
    if (bias == nullptr) return;
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t c = c0; c < c1; ++c) out[r * ldo + c] += bias[c];
  };
  ThreadPool& pool = kernel_thread_pool();
  if (pool.size() == 1 || m * n * k < kMinParallelWork) {
    simd.dot_rows(x, ldx, m, w, k, n, k, out, ldo);
    add_bias(0, m, 0, n);
    return;
  }
  const std::int64_t row_blocks = (m + kRowBlock - 1) / kRowBlock;
  // Enough column blocks that every thread gets work even when M is small.
  const std::int64_t col_block = std::max<std::int64_t>(
      kColBlock, (n / (pool.size() * 4) + kColBlock - 1) / kColBlock * kColBlock);
  const std::int64_t col_blocks = (n + col_block - 1) / col_block;
  pool.parallel_for(row_blocks * col_blocks, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      const std::int64_t r0 = (b / col_blocks) * kRowBlock, r1 = std::min(m, r0 + kRowBlock);
      const std::int64_t c0 = (b % col_blocks) * col_block, c1 = std::min(n, c0 + col_block);
      simd.dot_rows(x + r0 * ldx, ldx, r1 - r0, w + c0 * k, k, c1 - c0, k, out + r0 * ldo + c0, ldo);
      add_bias(r0, r1, c0, c1);
    }
  });
}

}  // namespace arle::kernels::cpu
