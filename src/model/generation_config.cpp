#include "model/generation_config.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"

namespace arle::model {
namespace {

using nlohmann::json;

template <typename T>
std::optional<T> optional_field(const json& config, const char* key, const std::string& label) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  bool ok = std::is_same_v<T, bool> ? it->is_boolean()
            : std::is_integral_v<T> ? it->is_number_integer()
                                    : it->is_number();
  if (!ok) throw_error(ErrorCode::kInvalidModel, "{}: \"{}\" has the wrong type ({})", label, key, describe_json(*it));
  return it->get<T>();
}

}  // namespace

GenerationConfig parse_generation_config(const json& config, const std::string& label) {
  if (!config.is_object()) throw_error(ErrorCode::kInvalidModel, "{}: not a JSON object", label);
  GenerationConfig g;
  g.present = true;
  g.bos_token_id = optional_field<std::int64_t>(config, "bos_token_id", label);
  g.pad_token_id = optional_field<std::int64_t>(config, "pad_token_id", label);
  if (auto it = config.find("eos_token_id"); it != config.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      g.eos_token_ids.push_back(it->get<std::int64_t>());
    } else if (it->is_array()) {
      for (const json& id : *it) {
        if (!id.is_number_integer()) {
          throw_error(ErrorCode::kInvalidModel, "{}: \"eos_token_id\" must hold integers, got {}", label, describe_json(id));
        }
        g.eos_token_ids.push_back(id.get<std::int64_t>());
      }
    } else {
      throw_error(ErrorCode::kInvalidModel, "{}: \"eos_token_id\" must be an integer or a list, got {}", label,
                  describe_json(*it));
    }
  }
  g.do_sample = optional_field<bool>(config, "do_sample", label);
  g.temperature = optional_field<double>(config, "temperature", label);
  g.top_p = optional_field<double>(config, "top_p", label);
  g.top_k = optional_field<std::int64_t>(config, "top_k", label);
  g.min_p = optional_field<double>(config, "min_p", label);
  g.repetition_penalty = optional_field<double>(config, "repetition_penalty", label);
  g.max_new_tokens = optional_field<std::int64_t>(config, "max_new_tokens", label);
  return g;
}

GenerationConfig load_generation_config(const std::filesystem::path& model_dir) {
  std::filesystem::path path = model_dir / "generation_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  return parse_generation_config(read_json_file(path), path.string());
}

}  // namespace arle::model
