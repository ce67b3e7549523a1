#pragma once
// RopeTable: the rotary frequencies a config asks for, and the cos/sin rows
// of given positions. Frequencies follow transformers' rope_utils for the
// types real Qwen/Llama configs use:
//   default  1 / theta^(2i/d)
//   linear   default / factor
//   dynamic  NTK-aware base, fixed at the context length factor * original
//            (as vLLM does; transformers re-derives it from the current
//            length, which would make a token's logits depend on its batch)
//   yarn     ramp between interpolated and extrapolated frequencies, and an
//            attention factor (0.1 ln(factor) + 1 unless given) on cos/sin
//   llama3   wavelength-banded smoothing between inv_freq and inv_freq/factor
// Angles are computed in double and rounded once to float.

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "tensor/tensor.h"

namespace arle::model {

class RopeTable {
 public:
  // Throws kUnsupported for rope types the CPU backend does not implement.
  explicit RopeTable(const ModelConfig& config);

  std::int64_t rotary_dim() const { return rotary_dim_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }
  double attention_factor() const { return attention_factor_; }

  // cos/sin [positions, rotary_dim/2] float32, scaled by attention_factor.
  void fill(const std::vector<std::int64_t>& positions, Tensor& cos, Tensor& sin) const;

 private:
  std::int64_t rotary_dim_;
  std::vector<double> inv_freq_;
  double attention_factor_ = 1.0;
};

}  // namespace arle::model
