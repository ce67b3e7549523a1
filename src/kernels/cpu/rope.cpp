#include "kernels/cpu/rope.h"

namespace arle::kernels::cpu {

void rope_apply(float* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                std::int64_t rotary_dim, const float* cos, const float* sin, RopeLayout layout) {
  const std::int64_t half = rotary_dim / 2;
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* c = cos + r * half;
    const float* s = sin + r * half;
    for (std::int64_t h = 0; h < heads; ++h) {
      float* v = x + r * ldx + h * head_dim;
      for (std::int64_t i = 0; i < half; ++i) {
        const std::int64_t a = layout == RopeLayout::kNeox ? i : 2 * i;
        const std::int64_t b = layout == RopeLayout::kNeox ? i + half : 2 * i + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c[i] - x1 * s[i];
        v[b] = x1 * c[i] + x0 * s[i];
      }
    }
  }
}

}  // namespace arle::kernels::cpu
