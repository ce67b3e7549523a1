#include "cli/model_resolution.h"

#include <cstdlib>
#include <system_error>

#include "common/bundled_asset.h"
#include "common/error.h"

namespace arle::cli {
namespace {

namespace fs = std::filesystem;

bool is_model_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

}  // namespace

std::optional<fs::path> find_bundled_model() {
  return find_bundled_asset(fs::path("models") / kDefaultModelName, is_model_dir);
}

ModelResolution resolve_model(const std::optional<std::string>& flag_path) {
  auto checked = [](const std::string& path, const char* source) {
    std::error_code ec;
    if (path.empty() || !fs::exists(path, ec)) {
      throw_error(ErrorCode::kNotFound, "model path '{}' (from {}) does not exist", path, source);
    }
    return ModelResolution{fs::path(path), source};
  };
  if (flag_path) return checked(*flag_path, "--model-path");
  if (const char* env = std::getenv("ARLE_MODEL"); env && *env) return checked(env, "ARLE_MODEL");
  if (auto bundled = find_bundled_model()) return {*bundled, "bundled default"};
  throw_error(ErrorCode::kNotFound,
              "no model given and the bundled {} was not found; pass --model-path DIR or set ARLE_MODEL",
              kDefaultModelName);
}

}  // namespace arle::cli
