#pragma once
// RMSNorm over the last dimension of `rows` vectors of length d:
//   y = x / sqrt(mean(x^2) + eps) * (offset ? 1 + w : w)
// The offset form is Qwen3.5's (weights stored around zero). In-place allowed
// (y == x). Also serves the per-head q/k norms of Qwen3 (rows = tokens*heads).
// The sum of squares is a SimdKernels::dot, so rows are batch-invariant.

#include <cstdint>

namespace arle::kernels::cpu {

void rms_norm(const float* x, std::int64_t ldx, std::int64_t rows, std::int64_t d, const float* w, float eps,
              bool offset, float* y, std::int64_t ldy);

}  // namespace arle::kernels::cpu
