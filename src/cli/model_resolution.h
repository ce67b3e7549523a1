#pragma once
// Which model a command runs on: --model-path, then $ARLE_MODEL, then the
// bundled default (stories260K) found beside the binary or in the source tree.

#include <filesystem>
#include <optional>
#include <string>

namespace arle::cli {

inline constexpr const char* kDefaultModelName = "stories260K";

struct ModelResolution {
  std::filesystem::path path;
  std::string source;  // "--model-path" | "ARLE_MODEL" | "bundled default"
};

// Throws arle::Error(kNotFound) naming the source when the chosen path does
// not exist, or when no model is given and the bundled one cannot be found.
ModelResolution resolve_model(const std::optional<std::string>& flag_path);

// The bundled default model folder, if it can be found.
std::optional<std::filesystem::path> find_bundled_model();

}  // namespace arle::cli
