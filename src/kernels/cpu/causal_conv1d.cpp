#include "kernels/cpu/causal_conv1d.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace arle::kernels::cpu {

void causal_conv1d_silu(const float* x, std::int64_t ldx, std::int64_t tokens, std::int64_t channels, const float* w,
                        std::int64_t kernel, float* window, float* out, std::int64_t ldo) {
  const std::int64_t history = kernel - 1;
  // Input row p of the extended sequence [window | x]: p < history reads the window.
  auto input = [&](std::int64_t p) { return p < history ? window + p * channels : x + (p - history) * ldx; };
  for (std::int64_t t = 0; t < tokens; ++t) {
    float* o = out + t * ldo;
    std::fill(o, o + channels, 0.0f);
    for (std::int64_t i = 0; i < kernel; ++i) {
      const float* in = input(t + i);
      for (std::int64_t c = 0; c < channels; ++c) o[c] += w[c * kernel + i] * in[c];
    }
    for (std::int64_t c = 0; c < channels; ++c) o[c] = o[c] / (1.0f + std::exp(-o[c]));
  }
  // The new window: the last `history` rows of [window | x].
  std::vector<float> next(static_cast<std::size_t>(history * channels));
  for (std::int64_t r = 0; r < history; ++r) {
    const float* in = input(tokens + r);
    std::copy(in, in + channels, next.begin() + r * channels);
  }
  std::copy(next.begin(), next.end(), window);
}

}  // namespace arle::kernels::cpu
