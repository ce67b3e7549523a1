#pragma once
// linear: out[M, N] = x[M, K] . w[N, K]^T (+ bias[N]), the layout of
// torch.nn.Linear. float32 in, float32 out; rows of x and w may be strided.
//
// Work is cut into blocks of rows x columns and spread over the kernel thread
// pool; each element is one SimdKernels::dot_rows reduction, so the result is
// the same for any blocking, batch size or thread count (batch invariance).
// Decode (M = 1) is bound by streaming w from memory; prefill by the FMA rate.

#include <cstdint>

namespace arle::kernels::cpu {

void linear(const float* x, std::int64_t ldx, std::int64_t m, const float* w, std::int64_t n, std::int64_t k,
            const float* bias, float* out, std::int64_t ldo);

}  // namespace arle::kernels::cpu
