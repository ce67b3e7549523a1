#pragma once
// Human-readable sizes for reports: "1.23M", "4.50 GiB".

#include <cstdint>
#include <string>

namespace arle {

std::string human_count(double n);  // 1000-based: K, M, B, T
std::string human_bytes(double n);  // 1024-based: KiB, MiB, GiB, TiB

}  // namespace arle
