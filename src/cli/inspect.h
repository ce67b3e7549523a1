#pragma once
// `arle inspect`: what a model folder holds, checked against its architecture.

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace arle::cli {

// The report as JSON (the --json output; docs/inspect.md lists the fields).
// Throws arle::Error for unreadable or malformed config.json / weights.
nlohmann::json inspect_model(const std::filesystem::path& model_path);
std::string render_inspect_text(const nlohmann::json& report);

}  // namespace arle::cli
