#include "common/units.h"

#include <fmt/format.h>

namespace arle {

std::string human_count(double n) {
  static const char* const kUnits[] = {"", "K", "M", "B", "T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, kUnits[u]);
}

std::string human_bytes(double n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", n) : fmt::format("{:.2f} {}", n, kUnits[u]);
}

}  // namespace arle
