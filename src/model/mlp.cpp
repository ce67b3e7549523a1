#include "model/mlp.h"

#include "kernels/ops.h"

namespace arle::model {

Tensor swiglu_mlp(const MlpWeights& w, const Tensor& x) {
  return ops::linear(ops::silu_and_mul(ops::linear(x, w.gate_up, w.gate_up_bias)), w.down, w.down_bias);
}

Tensor routed_experts(const Tensor& x, const Tensor& router, const std::vector<MlpWeights>& experts, std::int64_t k,
                      bool normalize) {
  ops::MoeRouting routing = ops::moe_route(ops::linear(x, router), k, normalize);
  Tensor out = Tensor::zeros(x.shape(), DType::kF32);
  const std::int64_t rows = x.size(0);
  std::vector<std::vector<std::int32_t>> expert_rows(experts.size());
  std::vector<std::vector<float>> expert_weights(experts.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int32_t e = routing.expert_ids[r * k + j];
      expert_rows[e].push_back(static_cast<std::int32_t>(r));
      expert_weights[e].push_back(routing.weights[r * k + j]);
    }
  }
  for (std::size_t e = 0; e < experts.size(); ++e) {
    if (expert_rows[e].empty()) continue;
    Tensor y = swiglu_mlp(experts[e], ops::gather_rows(x, expert_rows[e]));
    for (std::size_t i = 0; i < expert_rows[e].size(); ++i) {
      ops::add_scaled_rows(out.narrow_rows(expert_rows[e][i], expert_rows[e][i] + 1),
                           y.narrow_rows(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i) + 1),
                           {expert_weights[e][i]});
    }
  }
  return out;
}

}  // namespace arle::model
