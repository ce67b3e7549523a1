#pragma once
// A one-line progress bar on stderr for long commands (bench, eval): redrawn
// in place on a terminal; on a pipe or file, a line at every tenth and at
// the end.

#include <cstdint>

namespace arle::cli {

void print_progress(std::int64_t done, std::int64_t total, double seconds, const char* unit);

}  // namespace arle::cli
