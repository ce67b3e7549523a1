#pragma once
// Reading JSON files with errors that name the file.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace arle {

// The whole file as bytes. Throws arle::Error(kNotFound) naming `what` and
// the path when it cannot be read.
std::string read_text_file(const std::filesystem::path& path, std::string_view what = "file");

// Throws arle::Error: kNotFound if missing, kInvalidModel if not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

// A short description of a JSON value for error messages: scalars as JSON
// (long strings cut), containers by kind and size. Never recurses, so a
// hostile, deeply nested value cannot overflow the stack.
std::string describe_json(const nlohmann::json& value);

}  // namespace arle
