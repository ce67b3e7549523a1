#pragma once
// The causal depthwise conv1d (then SiLU) that Qwen3.5's linear-attention
// layers run over their q, k, v channels, for one sequence:
//   out[t][c] = silu(sum_{i < K} w[c][i] * x[t - (K - 1) + i][c])
// Inputs before the call's first token come from `window` ([K - 1,
// channels], oldest first: the last K - 1 inputs of the sequence's previous
// call, zeros for a new sequence); on return it holds this call's last K - 1
// inputs (older ones shifted in when the call is shorter than K - 1), so a
// prefill split into chunks, or decode one token at a time, equals one call.
// w is [channels, K] (the checkpoint's [channels, 1, K]); rows of x and out
// are ldx / ldo floats apart.

#include <cstdint>

namespace arle::kernels::cpu {

void causal_conv1d_silu(const float* x, std::int64_t ldx, std::int64_t tokens, std::int64_t channels, const float* w,
                        std::int64_t kernel, float* window, float* out, std::int64_t ldo);

}  // namespace arle::kernels::cpu
