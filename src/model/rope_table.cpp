#include "model/rope_table.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/error.h"

namespace arle::model {
namespace {

double yarn_correction_dim(double rotations, double dim, double base, double max_positions) {
  return dim * std::log(max_positions / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
}

void apply_yarn(const RopeConfig& rope, std::int64_t dim, std::int64_t original_max, std::vector<double>& inv_freq,
                double& attention_factor) {
  const double factor = rope.factor;
  attention_factor = rope.attention_factor.value_or(factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0);
  const double beta_fast = rope.beta_fast.value_or(32.0), beta_slow = rope.beta_slow.value_or(1.0);
  const auto d = static_cast<double>(dim);
  double low = std::floor(yarn_correction_dim(beta_fast, d, rope.theta, static_cast<double>(original_max)));
  double high = std::ceil(yarn_correction_dim(beta_slow, d, rope.theta, static_cast<double>(original_max)));
  low = std::max(low, 0.0);
  high = std::min(high, d - 1);
  if (low == high) high += 0.001;
  for (std::size_t i = 0; i < inv_freq.size(); ++i) {
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    const double extrapolation = 1.0 - ramp;
    inv_freq[i] = inv_freq[i] / factor * (1.0 - extrapolation) + inv_freq[i] * extrapolation;
  }
}

void apply_llama3(const RopeConfig& rope, std::int64_t original_max, std::vector<double>& inv_freq) {
  const auto old_context = static_cast<double>(original_max);
  const double low_wavelen = old_context / rope.low_freq_factor;
  const double high_wavelen = old_context / rope.high_freq_factor;
  for (double& f : inv_freq) {
    const double wavelen = 2 * std::numbers::pi / f;
    if (wavelen > low_wavelen) {
      f /= rope.factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (old_context / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
      f = (1 - smooth) * f / rope.factor + smooth * f;
    }
  }
}

}  // namespace

RopeTable::RopeTable(const ModelConfig& config) : rotary_dim_(config.rotary_dim()) {
  const RopeConfig& rope = config.rope;
  const std::int64_t original_max =
      rope.original_max_position_embeddings > 0 ? rope.original_max_position_embeddings : config.max_position_embeddings;
  const std::string& type = rope.type;
  if (type != "default" && !(rope.factor > 0)) {
    throw_error(ErrorCode::kInvalidModel, "rope scaling factor {} must be positive", rope.factor);
  }
  double base = rope.theta;
  if (type == "dynamic" && rope.factor > 1) {
    const double d = static_cast<double>(rotary_dim_);
    base *= std::pow(rope.factor * rope.factor - (rope.factor - 1), d / (d - 2));
  }
  inv_freq_.resize(static_cast<std::size_t>(rotary_dim_ / 2));
  for (std::size_t i = 0; i < inv_freq_.size(); ++i) {
    inv_freq_[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / static_cast<double>(rotary_dim_));
  }
  if (type == "default" || type == "dynamic") {
  } else if (type == "linear") {
    for (double& f : inv_freq_) f /= rope.factor;
  } else if (type == "yarn") {
    if (original_max <= 0) throw_error(ErrorCode::kInvalidModel, "yarn rope needs original_max_position_embeddings");
    apply_yarn(rope, rotary_dim_, original_max, inv_freq_, attention_factor_);
  } else if (type == "llama3") {
    if (original_max <= 0 || !(rope.high_freq_factor > rope.low_freq_factor)) {
      throw_error(ErrorCode::kInvalidModel, "llama3 rope needs original_max_position_embeddings and "
                                            "high_freq_factor > low_freq_factor");
    }
    apply_llama3(rope, original_max, inv_freq_);
  } else {
    throw_error(ErrorCode::kUnsupported, "rope type '{}' is not implemented by the CPU backend", type);
  }
}

void RopeTable::fill(const std::vector<std::int64_t>& positions, Tensor& cos, Tensor& sin) const {
  const auto rows = static_cast<std::int64_t>(positions.size());
  const auto half = static_cast<std::int64_t>(inv_freq_.size());
  cos = Tensor::empty({rows, half}, DType::kF32);
  sin = Tensor::empty({rows, half}, DType::kF32);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(positions[r]) * inv_freq_[i];
      cos.data<float>()[r * half + i] = static_cast<float>(std::cos(angle) * attention_factor_);
      sin.data<float>()[r * half + i] = static_cast<float>(std::sin(angle) * attention_factor_);
    }
  }
}

}  // namespace arle::model
