#pragma once
// Typed access to the component objects of tokenizer.json, with errors that
// say which component and field is wrong.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "text/regex.h"

namespace arle::text {

// The "type" string of a component object.
std::string spec_type(const nlohmann::json& spec, std::string_view component);
std::string spec_string(const nlohmann::json& spec, const char* key, std::string_view component);
const nlohmann::json& spec_list(const nlohmann::json& spec, const char* key, std::string_view component);
// {"pattern": {"String": "..."}} or {"pattern": {"Regex": "..."}}.
Regex spec_pattern(const nlohmann::json& spec, std::string_view component);

// A special token of tokenizer_config.json, written as a string or as
// {"content": ...}; nullopt when absent or null.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key);

std::string replace_all(const Regex& pattern, std::string_view text, std::string_view content);

}  // namespace arle::text
