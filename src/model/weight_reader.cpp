#include "model/weight_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "common/error.h"

namespace arle::model {

WeightReport require_complete_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  WeightReport report = check_weights(config, checkpoint);
  if (report.complete()) return report;
  std::vector<std::string> problems;
  for (const std::string& name : report.missing) problems.push_back("missing " + name);
  for (const ShapeMismatch& m : report.mismatched) {
    problems.push_back(fmt::format("{} is {} but the config needs {}", m.name, shape_to_string(m.actual),
                                   shape_to_string(m.expected)));
  }
  if (problems.size() > 5) {
    const std::size_t more = problems.size() - 5;
    problems.resize(5);
    problems.push_back(fmt::format("and {} more", more));
  }
  throw_error(ErrorCode::kInvalidModel, "the checkpoint does not fit config.json: {}", fmt::join(problems, "; "));
}

Tensor WeightReader::get(const std::string& canonical) {
  auto it = report_.canonical_to_checkpoint.find(canonical);
  if (it == report_.canonical_to_checkpoint.end())
    throw_error(ErrorCode::kInvalidModel, "missing tensor {}", canonical);
  Tensor stored = checkpoint_.tensor(it->second);
  if (!dtype_is_float(stored.dtype())) {
    throw_error(ErrorCode::kInvalidModel, "tensor {} is {}, not a float type", it->second, dtype_name(stored.dtype()));
  }
  Tensor t = stored.to_f32();
  bytes_ += t.nbytes();
  return t;
}

Tensor WeightReader::concat_rows(const std::vector<Tensor>& parts) {
  std::int64_t rows = 0;
  for (const Tensor& p : parts) rows += p.size(0);
  Shape shape = parts[0].shape();
  shape[0] = rows;
  Tensor out = Tensor::empty(shape, DType::kF32);
  auto* dst = static_cast<std::uint8_t*>(out.raw_data());
  for (const Tensor& p : parts) {
    std::memcpy(dst, p.raw_data(), p.nbytes());
    dst += p.nbytes();
    bytes_ -= p.nbytes();
  }
  bytes_ += out.nbytes();
  return out;
}

MlpWeights WeightReader::mlp(const std::string& prefix) {
  MlpWeights m;
  m.gate_up = concat_rows({get(prefix + "gate_proj.weight"), get(prefix + "up_proj.weight")});
  if (has(prefix + "gate_proj.bias")) {
    m.gate_up_bias = concat_rows({get(prefix + "gate_proj.bias"), get(prefix + "up_proj.bias")});
  }
  m.down = get(prefix + "down_proj.weight");
  m.down_bias = get_optional(prefix + "down_proj.bias");
  return m;
}

Tensor WeightReader::lm_head(const ModelConfig& config, const Tensor& embed_tokens) {
  return has("lm_head.weight") && !config.tie_word_embeddings ? get("lm_head.weight") : embed_tokens;
}

std::vector<MlpWeights> WeightReader::experts(const std::string& prefix, std::int64_t experts) {
  std::vector<MlpWeights> out;
  if (!has(prefix + "experts.gate_up_proj")) {
    for (std::int64_t e = 0; e < experts; ++e) out.push_back(mlp(fmt::format("{}experts.{}.", prefix, e)));
    return out;
  }
  Tensor gate_up = get(prefix + "experts.gate_up_proj");
  Tensor down = get(prefix + "experts.down_proj");
  const std::int64_t gu_rows = gate_up.size(1), down_rows = down.size(1);
  gate_up = gate_up.reshape({experts * gu_rows, gate_up.size(2)});
  down = down.reshape({experts * down_rows, down.size(2)});
  out.resize(static_cast<std::size_t>(experts));
  for (std::int64_t e = 0; e < experts; ++e) {
    out[e].gate_up = gate_up.narrow_rows(e * gu_rows, (e + 1) * gu_rows);
    out[e].down = down.narrow_rows(e * down_rows, (e + 1) * down_rows);
  }
  return out;
}

}  // namespace arle::model
