#include "text/spec_fields.h"

#include "common/error.h"
#include "common/json_file.h"

namespace arle::text {

std::string spec_type(const nlohmann::json& spec, std::string_view component) {
  if (!spec.is_object()) throw_error(ErrorCode::kInvalidModel, "{} must be an object, got {}", component, describe_json(spec));
  auto it = spec.find("type");
  if (it == spec.end() || !it->is_string()) throw_error(ErrorCode::kInvalidModel, "{} has no \"type\"", component);
  return it->get<std::string>();
}

std::string spec_string(const nlohmann::json& spec, const char* key, std::string_view component) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_string()) {
    throw_error(ErrorCode::kInvalidModel, "{} needs a string \"{}\"", component, key);
  }
  return it->get<std::string>();
}

const nlohmann::json& spec_list(const nlohmann::json& spec, const char* key, std::string_view component) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_array()) throw_error(ErrorCode::kInvalidModel, "{} needs a list \"{}\"", component, key);
  return *it;
}

Regex spec_pattern(const nlohmann::json& spec, std::string_view component) {
  auto it = spec.find("pattern");
  if (it != spec.end() && it->is_object()) {
    if (auto s = it->find("String"); s != it->end() && s->is_string()) return Regex::literal(s->get<std::string>());
    if (auto r = it->find("Regex"); r != it->end() && r->is_string()) return Regex(r->get<std::string>());
  }
  throw_error(ErrorCode::kInvalidModel, "{} needs \"pattern\": {{\"String\": ...}} or {{\"Regex\": ...}}", component);
}

std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return std::nullopt;
}

std::string replace_all(const Regex& pattern, std::string_view text, std::string_view content) {
  std::string out;
  std::size_t last = 0;
  for (auto [begin, end] : pattern.find_all(text)) {
    out.append(text.substr(last, begin - last));
    out.append(content);
    last = end;
  }
  out.append(text.substr(last));
  return out;
}

}  // namespace arle::text
