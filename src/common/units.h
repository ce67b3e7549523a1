#pragma once
// Human-readable sizes for reports: "1.23M", "4.50 GiB".

#include <cstdint>
#include <string>

namespace arle {

std::string human_count(double n);  // 1000-based: K, M, B, T
std::string human_bytes(double n);  // 1024-based: KiB, MiB, GiB, TiB
// "1073741824", "512MiB", "2 GiB", "1.5G", "300MB" -> bytes (K/M/G/T are
// 1024-based with or without "iB"; "KB"/"MB"/"GB"/"TB" are 1000-based).
// Throws kInvalidArgument naming `what`.
std::uint64_t parse_bytes(const std::string& text, const char* what);

}  // namespace arle
