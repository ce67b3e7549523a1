#include "common/system_info.h"

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace arle {
namespace {

std::string trim(std::string s) {
  auto begin = s.find_first_not_of(" \t\"");
  auto end = s.find_last_not_of(" \t\"");
  return begin == std::string::npos ? "" : s.substr(begin, end - begin + 1);
}

// Value after "key:" (or "key=") on the first matching line of a text file.
std::string find_value(const char* path, const std::string& key, char separator) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      auto pos = line.find(separator, key.size());
      if (pos != std::string::npos) return trim(line.substr(pos + 1));
    }
  }
  return "";
}

std::uint64_t meminfo_bytes(const std::string& key) {
  std::string v = find_value("/proc/meminfo", key, ':');  // "16384 kB"
  try {
    return v.empty() ? 0 : std::stoull(v) * 1024;
  } catch (...) {
    return 0;
  }
}

}  // namespace

SystemInfo system_info() {
  SystemInfo info;
  info.cpu_model = find_value("/proc/cpuinfo", "model name", ':');
  if (info.cpu_model.empty()) info.cpu_model = "unknown";
  info.logical_cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  cpu_set_t set;
  CPU_ZERO(&set);
  info.usable_cores = ::sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : info.logical_cores;
  info.ram_total_bytes = meminfo_bytes("MemTotal");
  info.ram_available_bytes = meminfo_bytes("MemAvailable");
  info.os = find_value("/etc/os-release", "PRETTY_NAME", '=');
  return info;
}

}  // namespace arle
