#include "cli/model_resolution.h"

#include <cstdlib>
#include <system_error>

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
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    // Installed layout: PREFIX/bin/arle and PREFIX/share/arle/models/.
    fs::path installed = dir.parent_path() / "share" / "arle" / "models" / kDefaultModelName;
    if (is_model_dir(installed)) return installed;
    // Build trees and copies of the repository: look up for assets/models/.
    for (int depth = 0; depth < 6 && !dir.empty(); ++depth) {
      fs::path candidate = dir / "assets" / "models" / kDefaultModelName;
      if (is_model_dir(candidate)) return candidate;
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
  }
  fs::path source_tree = fs::path(ARLE_SOURCE_DIR) / "assets" / "models" / kDefaultModelName;
  if (is_model_dir(source_tree)) return source_tree;
  return std::nullopt;
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
