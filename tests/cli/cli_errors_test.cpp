// Bad command lines end with one line on stderr and exit code 2 (a usage
// error) or 1 (anything else, e.g. a model path that does not exist).
#include <gtest/gtest.h>

#include <algorithm>

#include "run_command.h"

namespace arle::testing {
namespace {

void expect_one_line_error(const CommandResult& r, const std::string& needle, int exit_code = 2) {
  EXPECT_EQ(r.exit_code, exit_code);
  EXPECT_EQ(r.err.rfind("arle: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(CliErrors, UnknownFlag) { expect_one_line_error(run_arle("--frobnicate"), "--frobnicate"); }

TEST(CliErrors, BadLogLevelFlagAndEnvironment) {
  expect_one_line_error(run_arle("--log-level loud inspect"), "--log-level 'loud' is not a log level");
  expect_one_line_error(run_arle("inspect", "ARLE_LOG_LEVEL=chatty"), "ARLE_LOG_LEVEL 'chatty'");
}

TEST(CliErrors, DoctorOnlyFlagsWithoutDoctor) { expect_one_line_error(run_arle("--json"), "go with --doctor"); }

TEST(CliErrors, MissingOptionValue) { expect_one_line_error(run_arle("inspect --model-path"), "model-path"); }

TEST(CliErrors, BadEnvironmentModelPath) {
  expect_one_line_error(run_arle("inspect", "ARLE_MODEL=/no/such/dir"), "(from ARLE_MODEL) does not exist", 1);
}

TEST(CliErrors, Backend) {
  expect_one_line_error(run_arle("--log-level warn generate --prompt x --backend tpu"), "must be auto, cpu or cuda");
#if !ARLE_WITH_CUDA
  // A CPU-only build (CI's) has no CUDA: asking for it is an error, auto is the CPU.
  expect_one_line_error(run_arle("--log-level warn generate --prompt x --backend cuda"),
                        "--backend cuda: this build has no CUDA backend", 1);
#endif
  CommandResult r = run_arle("--log-level warn generate --prompt Once --max-tokens 3 --temperature 0 --backend auto");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // --no-cuda-graph is accepted by every model command (a CPU model ignores it) and gives the same text.
  CommandResult eager =
      run_arle("--log-level warn generate --prompt Once --max-tokens 3 --temperature 0 --backend auto --no-cuda-graph");
  EXPECT_EQ(eager.exit_code, 0) << eager.err;
  EXPECT_EQ(eager.out, r.out);
  EXPECT_EQ(run_arle("bench latency --help").out.find("--no-cuda-graph") != std::string::npos, true);
  EXPECT_NE(run_arle("serve --help").out.find("--no-cuda-graph"), std::string::npos);
}

TEST(Cli, VersionAndHelp) {
  CommandResult v = run_arle("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("arle 0.1.0", 0), 0u) << v.out;
  CommandResult h = run_arle("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("inspect"), std::string::npos);
  EXPECT_NE(h.out.find("--doctor"), std::string::npos);
}

TEST(Cli, LogLevelOffSilencesStderr) {
  CommandResult r = run_arle("--log-level off inspect --json");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

}  // namespace
}  // namespace arle::testing
