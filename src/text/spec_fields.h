#pragma once
// Typed access to the component objects of tokenizer.json, with errors that
// say which component and field is wrong.

#include <nlohmann/json.hpp>

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

std::string replace_all(const Regex& pattern, std::string_view text, std::string_view content);

}  // namespace arle::text
