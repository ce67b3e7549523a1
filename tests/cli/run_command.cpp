#include "run_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/json_file.h"

namespace arle::testing {

CommandResult run_arle(const std::string& args, const std::string& env) {
  static int counter = 0;
  auto base = std::filesystem::path(::testing::TempDir()) / ("arle_cmd_" + std::to_string(::getpid()) + "_" +
                                                            std::to_string(counter++));
  std::string command = env + (env.empty() ? "" : " ") + "'" + ARLE_BINARY + "' " + args + " >'" + base.string() +
                        ".out' 2>'" + base.string() + ".err' </dev/null";
  int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text_file(base.string() + ".out");
  r.err = read_text_file(base.string() + ".err");
  return r;
}

std::string fixtures_dir() { return ARLE_TEST_FIXTURES; }

}  // namespace arle::testing
