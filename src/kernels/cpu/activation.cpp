#include "kernels/cpu/activation.h"

#include <cmath>

namespace arle::kernels::cpu {

void silu_and_mul(const float* gate_up, std::int64_t rows, std::int64_t d, float* out) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* g = gate_up + r * 2 * d;
    const float* u = g + d;
    float* o = out + r * d;
    for (std::int64_t i = 0; i < d; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

}  // namespace arle::kernels::cpu
