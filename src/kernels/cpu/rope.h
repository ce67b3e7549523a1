#pragma once
// Rotary position embedding applied in place to `heads` vectors of length
// head_dim per row; only the first rotary_dim components rotate (partial
// rotary). cos/sin hold rotary_dim/2 values per row (already scaled by any
// attention factor, e.g. YaRN's mscale).
//   kNeox:        pairs (i, i + rotary_dim/2)   - rotate_half, HF Llama/Qwen
//   kInterleaved: pairs (2i, 2i + 1)            - GPT-J, original llama2.c

#include <cstdint>

namespace arle::kernels::cpu {

enum class RopeLayout { kNeox, kInterleaved };

void rope_apply(float* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                std::int64_t rotary_dim, const float* cos, const float* sin, RopeLayout layout);

}  // namespace arle::kernels::cpu
