#pragma once
// Facts about the host, for `arle --doctor` and for sizing thread pools and
// memory budgets.

#include <cstdint>
#include <string>

namespace arle {

struct SystemInfo {
  std::string cpu_model;           // /proc/cpuinfo "model name"
  int logical_cores = 0;           // online
  int usable_cores = 0;            // in this process's affinity mask
  std::uint64_t ram_total_bytes = 0;
  std::uint64_t ram_available_bytes = 0;
  std::string os;                  // PRETTY_NAME from /etc/os-release
};

SystemInfo system_info();

}  // namespace arle
