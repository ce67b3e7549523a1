#pragma once
// Test helper: runs the real `arle` binary and captures what it printed.

#include <string>

namespace arle::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `args` is appended to the binary's path and run by /bin/sh; `env` (e.g.
// "ARLE_MODEL=/x") is prefixed to the command.
CommandResult run_arle(const std::string& args, const std::string& env = "");

std::string fixtures_dir();

}  // namespace arle::testing
