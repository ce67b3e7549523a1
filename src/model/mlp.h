#pragma once
// The feed-forward blocks the CPU decoders share: a SwiGLU MLP, and top-k
// routed SwiGLU experts (Qwen3-MoE, Qwen3.5-MoE).

#include <cstdint>
#include <vector>

#include "model/weight_reader.h"
#include "tensor/tensor.h"

namespace arle::model {

// down(silu(gate(x)) * up(x)), float32 [rows, hidden].
Tensor swiglu_mlp(const MlpWeights& w, const Tensor& x);

// Softmax over router(x), the top `k` experts of each row (renormalised to
// sum 1 when `normalize`), each expert's SwiGLU output scaled by its weight.
// Experts run one after another over the rows routed to them, and each row
// adds its experts' outputs in ascending expert id: the same order whatever
// else is in the batch.
Tensor routed_experts(const Tensor& x, const Tensor& router, const std::vector<MlpWeights>& experts, std::int64_t k,
                      bool normalize);

}  // namespace arle::model
