#pragma once
// Test helper: a fresh empty directory under the temp dir, removed again.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace arle::agent {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& label) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() / fmt::format("arle_{}_{}_{}", label, ::getpid(), counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Skips the test unless bubblewrap works here; with ARLE_REQUIRE_BWRAP=1
// (CI) fails instead.
#define ARLE_REQUIRE_BUBBLEWRAP()                                                                                    \
  do {                                                                                                               \
    const char* required = std::getenv("ARLE_REQUIRE_BWRAP");                                                        \
    if (!::arle::agent::bubblewrap_works()) {                                                                        \
      if (required && std::string(required) == "1") FAIL() << "ARLE_REQUIRE_BWRAP=1 but bubblewrap cannot run here"; \
      GTEST_SKIP() << "bubblewrap cannot run here";                                                                  \
    }                                                                                                                \
  } while (false)

}  // namespace arle::agent
