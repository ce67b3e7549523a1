#include "common/bundled_asset.h"

#include <gtest/gtest.h>

#include <vector>

namespace arle {
namespace {

namespace fs = std::filesystem;

TEST(BundledAsset, LooksBesideAnInstalledBinaryFirstThenUpTheTreeThenTheSources) {
  std::vector<fs::path> asked;
  const auto found = find_bundled_asset("models/none", [&](const fs::path& p) {
    asked.push_back(p);
    return false;
  });
  EXPECT_FALSE(found);
  ASSERT_GE(asked.size(), 3u);
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
  EXPECT_EQ(asked.front(), exe_dir.parent_path() / "share" / "arle" / "models" / "none");
  EXPECT_EQ(asked[1], exe_dir / "assets" / "models" / "none");
  EXPECT_EQ(asked.back(), fs::path(ARLE_SOURCE_DIR) / "assets" / "models" / "none");
}

TEST(BundledAsset, FindsTheRepositorysAssetsFromATestBinary) {
  const auto found = find_bundled_asset("models/stories260K",
                                        [](const fs::path& p) { return fs::is_regular_file(p / "config.json"); });
  ASSERT_TRUE(found);
  EXPECT_EQ(fs::canonical(*found), fs::canonical(fs::path(ARLE_SOURCE_DIR) / "assets" / "models" / "stories260K"));
}

}  // namespace
}  // namespace arle
