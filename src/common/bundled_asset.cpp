#include "common/bundled_asset.h"

#include <system_error>

namespace arle {

namespace fs = std::filesystem;

std::optional<fs::path> find_bundled_asset(const fs::path& relative,
                                           const std::function<bool(const fs::path&)>& usable) {
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    if (fs::path installed = dir.parent_path() / "share" / "arle" / relative; usable(installed)) return installed;
    // A folder or two below the repository root: build/release/bin, device/bin.
    for (int depth = 0; depth < 6 && !dir.empty(); ++depth) {
      if (fs::path candidate = dir / "assets" / relative; usable(candidate)) return candidate;
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
  }
  if (fs::path source_tree = fs::path(ARLE_SOURCE_DIR) / "assets" / relative; usable(source_tree)) return source_tree;
  return std::nullopt;
}

}  // namespace arle
