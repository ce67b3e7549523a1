// The tool sandbox on real processes: exit codes and output, the timeout
// killing the whole tree, output kept within its budget, a scrubbed
// environment, closed stdin, rlimits, cancellation, and under bubblewrap a
// read-only system and no network. The bubblewrap tests skip where it cannot
// run, unless ARLE_REQUIRE_BWRAP=1 (CI installs it and sets that).
#include "agent/sandbox.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "scratch_dir.h"

namespace arle::agent {
namespace {

namespace fs = std::filesystem;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.workdir = workdir_;
    config_.isolation = Isolation::kNone;
    config_.limits.timeout_seconds = 10;
  }

  SandboxResult shell(const std::string& script, const std::optional<std::string>& input = std::nullopt) {
    return run_sandboxed({"bash", "-c", script}, config_, input);
  }
  ScratchDir scratch_{"sandbox_test"};
  const fs::path workdir_ = scratch_.path();
  SandboxConfig config_;
};

// Processes whose command line holds `marker`.
int processes_with(const std::string& marker) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(marker) != std::string::npos) ++count;
  }
  return count;
}

TEST_F(SandboxTest, ReturnsTheExitCodeAndBothStreams) {
  const SandboxResult r = shell("echo out; echo err >&2; exit 3");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_EQ(r.status(), "exit 3");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.isolated);
}

TEST_F(SandboxTest, RunsInTheWorkdirWithStdinClosedOrGiven) {
  EXPECT_EQ(shell("pwd").output, fs::canonical(workdir_).string() + "\n");
  const SandboxResult closed = shell("cat; echo done");
  EXPECT_EQ(closed.output, "done\n");
  EXPECT_EQ(shell("cat", std::string("abc")).output, "abc");
  // Larger than a pipe's buffer: written while the output is read.
  const std::string big(1 << 20, 'q');
  config_.limits.output_bytes = 2 << 20;
  EXPECT_EQ(shell("cat", big).output, big);
}

TEST_F(SandboxTest, TheTimeoutKillsTheWholeTree) {
  config_.limits.timeout_seconds = 0.5;
  const std::string marker = fmt::format("61.{}", ::getpid());
  const SandboxResult r = shell("(sleep " + marker + "; echo never) & bash -c 'sleep " + marker + "'; echo never");
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(r.output.find("never"), std::string::npos);
  EXPECT_NE(r.status().find("timeout"), std::string::npos);
  EXPECT_EQ(processes_with(marker), 0);
}

TEST_F(SandboxTest, BackgroundChildrenEndWithTheCommand) {
  const std::string marker = fmt::format("62.{}", ::getpid());
  const SandboxResult r = shell("sleep " + marker + " & echo started");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "started\n");
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(processes_with(marker), 0);
}

TEST_F(SandboxTest, TenMegabytesOfOutputKeepHeadAndTail) {
  config_.limits.output_bytes = 4096;
  const SandboxResult r = shell("printf START; head -c 10000000 /dev/zero | tr '\\0' a; printf END");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 10000000 + 8);
  EXPECT_TRUE(r.output_truncated);
  EXPECT_LT(r.output.size(), 4096u + 64u);
  EXPECT_EQ(r.output.substr(0, 5), "START");
  EXPECT_EQ(r.output.substr(r.output.size() - 3), "END");
  EXPECT_NE(r.output.find("[... 9995912 bytes of output cut ...]"), std::string::npos);
}

TEST_F(SandboxTest, TheEnvironmentCarriesNoSecrets) {
  ::setenv("ARLE_TEST_SECRET_TOKEN", "hunter2", 1);
  const SandboxResult r = shell("env");
  ::unsetenv("ARLE_TEST_SECRET_TOKEN");
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos);
  EXPECT_NE(r.output.find("HOME=" + fs::absolute(workdir_).string()), std::string::npos);
  EXPECT_NE(r.output.find("PATH=/usr/local/bin:/usr/bin:/bin"), std::string::npos);
}

TEST_F(SandboxTest, MemoryLimitStopsAGreedyCommand) {
  config_.limits.memory_bytes = std::int64_t{512} << 20;
  const SandboxResult r = run_sandboxed({"python3", "-c", "x = bytearray(2 << 30); print('allocated')"}, config_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("MemoryError"), std::string::npos) << r.output;
}

TEST_F(SandboxTest, CancelStopsARunningCommand) {
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const SandboxResult r = run_sandboxed({"sleep", "30"}, config_, std::nullopt, &cancel);
  stopper.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(r.status(), "stopped by the user");
}

TEST_F(SandboxTest, BadCommandsAndWorkdirsAreClear) {
  const SandboxResult missing = run_sandboxed({"no-such-tool-arle"}, config_);
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.output.find("not found"), std::string::npos);
  config_.workdir = workdir_ / "absent";
  EXPECT_THROW(shell("true"), Error);
}

TEST_F(SandboxTest, BubblewrapKeepsTheSystemReadOnlyAndTmpPrivate) {
  ARLE_REQUIRE_BUBBLEWRAP();
  config_.isolation = Isolation::kBubblewrap;
  const SandboxResult r = shell(
      "echo kept > result.txt && echo made > /tmp/inner && cat /tmp/inner; "
      "if echo x > /usr/arle_sandbox_probe 2>/dev/null; then echo WROTE_USR; fi; "
      "if echo x > /etc/arle_sandbox_probe 2>/dev/null; then echo WROTE_ETC; fi");
  EXPECT_TRUE(r.isolated);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.substr(0, 5), "made\n");
  EXPECT_EQ(r.output.find("WROTE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Read-only file system"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(workdir_ / "result.txt"));
  EXPECT_FALSE(fs::exists("/usr/arle_sandbox_probe"));
  EXPECT_FALSE(fs::exists("/etc/arle_sandbox_probe"));
}

TEST_F(SandboxTest, BubblewrapHasNoNetwork) {
  ARLE_REQUIRE_BUBBLEWRAP();
  config_.isolation = Isolation::kBubblewrap;
  // A listener on the host's loopback: reachable without the sandbox, not inside it.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string probe = fmt::format(
      "if echo hi > /dev/tcp/127.0.0.1/{}; then echo CONNECTED; else echo REFUSED; fi", ntohs(address.sin_port));
  const SandboxResult inside = shell(probe);
  config_.isolation = Isolation::kNone;
  const SandboxResult outside = shell(probe);
  ::close(listener);
  EXPECT_NE(inside.output.find("REFUSED"), std::string::npos) << inside.output;
  EXPECT_NE(outside.output.find("CONNECTED"), std::string::npos) << outside.output;
}

TEST_F(SandboxTest, BubblewrapTimeoutKillsTheTree) {
  ARLE_REQUIRE_BUBBLEWRAP();
  config_.isolation = Isolation::kBubblewrap;
  config_.limits.timeout_seconds = 0.5;
  const std::string marker = fmt::format("63.{}", ::getpid());
  const SandboxResult r = shell("sleep " + marker + " & sleep " + marker);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.seconds, 3.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the namespace's init goes after bwrap
  EXPECT_EQ(processes_with(marker), 0);
}

}  // namespace
}  // namespace arle::agent
