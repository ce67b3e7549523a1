#pragma once
// generation_config.json: the model author's default sampling settings and
// stop tokens. Optional: a folder without it gets an empty config.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace arle::model {

struct GenerationConfig {
  bool present = false;  // the file existed
  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;  // "eos_token_id": int or list
  std::optional<std::int64_t> pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> top_k;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;
  std::optional<std::int64_t> max_new_tokens;
};

GenerationConfig parse_generation_config(const nlohmann::json& config, const std::string& label);
// Reads DIR/generation_config.json if it exists.
GenerationConfig load_generation_config(const std::filesystem::path& model_dir);

}  // namespace arle::model
