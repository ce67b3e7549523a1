#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace arle::cli {

void print_progress(std::int64_t done, std::int64_t total, double seconds, const char* unit) {
  const bool terminal = isatty(STDERR_FILENO) != 0;
  if (!terminal && done != total && done % std::max<std::int64_t>(1, total / 10) != 0) return;
  const int width = 30;
  const int filled = static_cast<int>(width * done / std::max<std::int64_t>(total, 1));
  std::fprintf(stderr, "\r[%s%s] %ld/%ld %s  %.1f s", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), '.').c_str(), static_cast<long>(done),
               static_cast<long>(total), unit, seconds);
  if (done == total || !terminal) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace arle::cli
