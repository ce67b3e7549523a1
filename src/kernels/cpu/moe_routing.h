#pragma once
// MoE router: softmax over expert logits in float32, the top k experts per
// row (ties to the lower expert id), optionally renormalised to sum to 1
// (norm_topk_prob), as Qwen2/3-MoE do. Outputs [rows, k] ids and weights,
// ids ascending by weight rank.

#include <cstdint>

namespace arle::kernels::cpu {

void moe_route(const float* logits, std::int64_t rows, std::int64_t experts, std::int64_t k, bool normalize,
               std::int32_t* ids, float* weights);

}  // namespace arle::kernels::cpu
