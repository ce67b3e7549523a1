#pragma once
// Logging front end. spdlog is included by log.cpp only (it is slow to
// compile); everything else formats with fmt and hands over a string.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace arle::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "trace" | "debug" | "info" | "warn" | "error" | "off"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// Level precedence: explicit flag, then ARLE_LOG_LEVEL, then `fallback`.
// Throws arle::Error naming the bad value and the accepted ones.
void init(std::optional<std::string> flag_level, Level fallback = Level::kInfo);
void set_level(Level level);
Level level();
bool enabled(Level level);

void write(Level level, std::string_view message);

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::kTrace)) write(Level::kTrace, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace arle::log
