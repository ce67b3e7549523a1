#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>

#include "common/error.h"

namespace arle::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

spdlog::logger& logger() {
  // stderr keeps stdout clean for machine-readable output (--json).
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("arle");
    l->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    l->set_level(spdlog::level::trace);  // filtering happens in enabled()
    return l;
  }();
  return *instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

void init(std::optional<std::string> flag_level, Level fallback) {
  std::string source = "--log-level";
  if (!flag_level) {
    if (const char* env = std::getenv("ARLE_LOG_LEVEL"); env && *env) {
      flag_level = env;
      source = "ARLE_LOG_LEVEL";
    }
  }
  if (!flag_level) {
    set_level(fallback);
    return;
  }
  auto parsed = parse_level(*flag_level);
  if (!parsed) {
    throw_error(ErrorCode::kInvalidArgument, "{} '{}' is not a log level; use trace, debug, info, warn, error or off",
                source, *flag_level);
  }
  set_level(*parsed);
}

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }
bool enabled(Level lvl) { return lvl != Level::kOff && lvl >= level(); }

void write(Level level, std::string_view message) { logger().log(to_spdlog(level), "{}", message); }

}  // namespace arle::log
