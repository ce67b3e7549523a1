#include "common/units.h"

#include <fmt/format.h>

namespace arle {
namespace {

// Divides by `base` until n is below it; units[0] is the unscaled unit.
std::string scaled(double n, double base, const char* const (&units)[5], const char* separator) {
  int u = 0;
  while (n >= base && u < 4) {
    n /= base;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}{}{}", n, separator, units[0]) : fmt::format("{:.2f}{}{}", n, separator, units[u]);
}

}  // namespace

std::string human_count(double n) {
  static const char* const kUnits[] = {"", "K", "M", "B", "T"};
  return scaled(n, 1000, kUnits, "");
}

std::string human_bytes(double n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return scaled(n, 1024, kUnits, " ");
}

}  // namespace arle
