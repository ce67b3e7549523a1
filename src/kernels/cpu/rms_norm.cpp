#include "kernels/cpu/rms_norm.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"
#include "kernels/cpu/simd_kernels.h"

namespace arle::kernels::cpu {

void rms_norm(const float* x, std::int64_t ldx, std::int64_t rows, std::int64_t d, const float* w, float eps,
              bool offset, float* y, std::int64_t ldy) {
  const SimdKernels& simd = simd_kernels();
  kernel_thread_pool().parallel_for(rows, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(d, 1)),
                                    [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * ldx;
      float* yr = y + r * ldy;
      const float mean_square = simd.dot(xr, xr, d) / static_cast<float>(d);
      const float inv = 1.0f / std::sqrt(mean_square + eps);
      for (std::int64_t i = 0; i < d; ++i) yr[i] = (xr[i] * inv) * (offset ? 1.0f + w[i] : w[i]);
    }
  });
}

}  // namespace arle::kernels::cpu
