#pragma once
// Reading JSON files with errors that name the file.

#include <nlohmann/json.hpp>

#include <filesystem>

namespace arle {

// Throws arle::Error: kNotFound if missing, kInvalidModel if not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace arle
