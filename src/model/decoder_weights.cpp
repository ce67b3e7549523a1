#include "model/decoder_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "common/error.h"
#include "model/weight_names.h"

namespace arle::model {
namespace {

class WeightReader {
 public:
  WeightReader(const Checkpoint& checkpoint, const WeightReport& report, std::size_t& bytes)
      : checkpoint_(checkpoint), report_(report), bytes_(bytes) {}

  bool has(const std::string& canonical) const { return report_.canonical_to_checkpoint.count(canonical) > 0; }

  // The named tensor as contiguous float32 (copied, so the file can close).
  Tensor get(const std::string& canonical) {
    auto it = report_.canonical_to_checkpoint.find(canonical);
    if (it == report_.canonical_to_checkpoint.end()) throw_error(ErrorCode::kInvalidModel, "missing tensor {}", canonical);
    Tensor stored = checkpoint_.tensor(it->second);
    if (!dtype_is_float(stored.dtype())) {
      throw_error(ErrorCode::kInvalidModel, "tensor {} is {}, not a float type", it->second, dtype_name(stored.dtype()));
    }
    Tensor t = stored.to_f32();
    bytes_ += t.nbytes();
    return t;
  }
  Tensor get_optional(const std::string& canonical) { return has(canonical) ? get(canonical) : Tensor{}; }

  // Row-wise concatenation of float32 matrices (or vectors) into one.
  Tensor concat_rows(const std::vector<Tensor>& parts) {
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

 private:
  const Checkpoint& checkpoint_;
  const WeightReport& report_;
  std::size_t& bytes_;
};

MlpWeights read_mlp(WeightReader& r, const std::string& prefix) {
  MlpWeights m;
  m.gate_up = r.concat_rows({r.get(prefix + "gate_proj.weight"), r.get(prefix + "up_proj.weight")});
  if (r.has(prefix + "gate_proj.bias")) {
    m.gate_up_bias = r.concat_rows({r.get(prefix + "gate_proj.bias"), r.get(prefix + "up_proj.bias")});
  }
  m.down = r.get(prefix + "down_proj.weight");
  m.down_bias = r.get_optional(prefix + "down_proj.bias");
  return m;
}

// Experts stored stacked: gate_up_proj [E, 2I, H] and down_proj [E, H, I].
std::vector<MlpWeights> read_fused_experts(WeightReader& r, const std::string& prefix, std::int64_t experts) {
  Tensor gate_up = r.get(prefix + "experts.gate_up_proj");
  Tensor down = r.get(prefix + "experts.down_proj");
  const std::int64_t gu_rows = gate_up.size(1), down_rows = down.size(1);
  gate_up = gate_up.reshape({experts * gu_rows, gate_up.size(2)});
  down = down.reshape({experts * down_rows, down.size(2)});
  std::vector<MlpWeights> out(static_cast<std::size_t>(experts));
  for (std::int64_t e = 0; e < experts; ++e) {
    out[e].gate_up = gate_up.narrow_rows(e * gu_rows, (e + 1) * gu_rows);
    out[e].down = down.narrow_rows(e * down_rows, (e + 1) * down_rows);
  }
  return out;
}

}  // namespace

DecoderWeights load_decoder_weights(const ModelConfig& config, const Checkpoint& checkpoint) {
  const WeightReport report = check_weights(config, checkpoint);
  if (!report.complete()) {
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
  DecoderWeights w;
  WeightReader r(checkpoint, report, w.bytes);
  w.embed_tokens = r.get("model.embed_tokens.weight");
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    DecoderLayerWeights l;
    l.input_norm = r.get(p + "input_layernorm.weight");
    l.post_attention_norm = r.get(p + "post_attention_layernorm.weight");
    const std::string a = p + "self_attn.";
    l.qkv = r.concat_rows({r.get(a + "q_proj.weight"), r.get(a + "k_proj.weight"), r.get(a + "v_proj.weight")});
    if (r.has(a + "q_proj.bias")) {
      l.qkv_bias = r.concat_rows({r.get(a + "q_proj.bias"), r.get(a + "k_proj.bias"), r.get(a + "v_proj.bias")});
    }
    l.o_proj = r.get(a + "o_proj.weight");
    l.o_bias = r.get_optional(a + "o_proj.bias");
    if (config.qk_norm) {
      l.q_norm = r.get(a + "q_norm.weight");
      l.k_norm = r.get(a + "k_norm.weight");
    }
    if (config.is_moe_layer(i)) {
      l.router = r.get(p + "mlp.gate.weight");
      if (r.has(p + "mlp.experts.gate_up_proj")) {
        l.experts = read_fused_experts(r, p + "mlp.", config.moe.num_experts);
      } else {
        for (std::int64_t e = 0; e < config.moe.num_experts; ++e) {
          l.experts.push_back(read_mlp(r, fmt::format("{}mlp.experts.{}.", p, e)));
        }
      }
    } else {
      l.mlp = read_mlp(r, p + "mlp.");
    }
    w.layers.push_back(std::move(l));
  }
  w.final_norm = r.get("model.norm.weight");
  w.lm_head = r.has("lm_head.weight") && !config.tie_word_embeddings ? r.get("lm_head.weight") : w.embed_tokens;
  return w;
}

}  // namespace arle::model
