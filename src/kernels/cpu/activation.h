#pragma once
// silu_and_mul: out[r, i] = silu(gate_up[r, i]) * gate_up[r, d + i] for a row
// of 2d values laid out [gate | up] (the fused gate/up projection's output).

#include <cstdint>

namespace arle::kernels::cpu {

void silu_and_mul(const float* gate_up, std::int64_t rows, std::int64_t d, float* out);

}  // namespace arle::kernels::cpu
