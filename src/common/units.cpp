#include "common/units.h"

#include <fmt/format.h>

#include <tuple>

#include "common/error.h"

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

std::uint64_t parse_bytes(const std::string& text, const char* what) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw_error(ErrorCode::kInvalidArgument, "{} '{}' is not a size (e.g. 512MiB, 2GiB)", what, text);
  }
  std::string unit = text.substr(used);
  unit.erase(0, unit.find_first_not_of(' '));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  for (const auto& [name, binary, decimal] : {std::tuple{"K", 1024.0, 1e3}, std::tuple{"M", 1048576.0, 1e6},
                                              std::tuple{"G", 1073741824.0, 1e9}, std::tuple{"T", 1099511627776.0, 1e12}}) {
    if (unit == name || unit == std::string(name) + "iB") scale = binary;
    if (unit == std::string(name) + "B") scale = decimal;
  }
  if (scale == 0 || !(value >= 0) || value * scale > 1.8e19) {
    throw_error(ErrorCode::kInvalidArgument, "{} '{}' is not a size (e.g. 512MiB, 2GiB)", what, text);
  }
  return static_cast<std::uint64_t>(value * scale);
}

}  // namespace arle
