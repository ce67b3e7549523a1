// The python tool's interpreter on real processes: state kept between cells,
// tracebacks, the timeout interrupting a cell (state kept) or killing an
// interpreter that ignores it (state gone, next cell fresh), an interpreter
// that dies, 10 MB of output, cancel, and under bubblewrap the same sandbox
// as the shell tool.
#include "agent/python_session.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "scratch_dir.h"

namespace arle::agent {
namespace {

namespace fs = std::filesystem;

class PythonSessionTest : public ::testing::Test {
 protected:
  PythonSessionTest() {
    config_.workdir = scratch_.path();
    config_.isolation = Isolation::kNone;
    config_.limits.timeout_seconds = 10;
  }
  ScratchDir scratch_{"python_test"};
  SandboxConfig config_;
};

TEST_F(PythonSessionTest, KeepsStateBetweenCellsAndPrintsTheLastExpression) {
  PythonSession python(config_);
  CellResult a = python.run("import math\nx = 41\ndef twice(v):\n    return 2 * v\nprint('set')");
  EXPECT_EQ(a.status, CellStatus::kOk) << a.output;
  EXPECT_EQ(a.output, "set\n");
  CellResult b = python.run("x + 1");
  EXPECT_EQ(b.output, "42\n");
  EXPECT_EQ(python.run("twice(math.floor(2.5))").output, "4\n");
  EXPECT_EQ(python.run("y = 3").output, "");  // an assignment prints nothing
  EXPECT_EQ(python.run("None").output, "");
  EXPECT_EQ(python.run("import sys\nprint('a'); print('b', file=sys.stderr); 'c'").output, "a\nb\n'c'\n");
}

TEST_F(PythonSessionTest, ExceptionsPrintTheirTracebackAndTheSessionGoesOn) {
  PythonSession python(config_);
  python.run("v = 7");
  CellResult r = python.run("def f():\n    return 1 / 0\nf()");
  EXPECT_EQ(r.status, CellStatus::kException);
  EXPECT_NE(r.output.find("ZeroDivisionError: division by zero"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("File \"<python>\", line 2, in f"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("_run"), std::string::npos) << "the driver's frames are cut: " << r.output;
  CellResult syntax = python.run("def (:");
  EXPECT_EQ(syntax.status, CellStatus::kException);
  EXPECT_NE(syntax.output.find("SyntaxError"), std::string::npos) << syntax.output;
  EXPECT_EQ(python.run("v").output, "7\n");
  CellResult exit = python.run("import sys; sys.exit(4)");
  EXPECT_EQ(exit.status, CellStatus::kExit);
  EXPECT_NE(exit.output.find("SystemExit: 4"), std::string::npos);
  EXPECT_EQ(python.run("v").output, "7\n");
}

TEST_F(PythonSessionTest, TheTimeoutInterruptsTheCellAndKeepsVariables) {
  config_.limits.timeout_seconds = 0.5;
  PythonSession python(config_);
  CellResult r = python.run("kept = 'yes'\nwhile True:\n    pass");
  EXPECT_EQ(r.status, CellStatus::kTimeout);
  EXPECT_LT(r.seconds, 2.0);
  EXPECT_NE(r.output.find("TimeoutError"), std::string::npos) << r.output;
  EXPECT_TRUE(r.note.empty());
  EXPECT_EQ(python.run("kept").output, "'yes'\n");
}

TEST_F(PythonSessionTest, ACellThatIgnoresTheTimeoutIsKilledAndTheNextStartsFresh) {
  config_.limits.timeout_seconds = 0.5;
  PythonSession python(config_);
  python.run("lost = 1");
  const std::string marker = fmt::format("71.{}", ::getpid());
  CellResult r = python.run(
      "import signal, subprocess\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
      "subprocess.Popen(['sleep', '" +
      marker + "'])\nimport time\nwhile True:\n    time.sleep(0.05)");
  EXPECT_EQ(r.status, CellStatus::kTimeout);
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_NE(r.note.find("restarted"), std::string::npos) << r.note;
  EXPECT_FALSE(python.alive());
  CellResult next = python.run("lost");
  EXPECT_EQ(next.status, CellStatus::kException);
  EXPECT_NE(next.output.find("NameError"), std::string::npos) << next.output;
  EXPECT_EQ(python.run("1 + 1").output, "2\n");
}

TEST_F(PythonSessionTest, AnInterpreterThatDiesIsReportedAndReplaced) {
  PythonSession python(config_);
  CellResult r = python.run("import os\nprint('bye', flush=True)\nos._exit(3)");
  EXPECT_EQ(r.status, CellStatus::kRestarted);
  EXPECT_EQ(r.output, "bye\n");
  EXPECT_NE(r.note.find("exited with status 3"), std::string::npos) << r.note;
  EXPECT_EQ(python.run("print('again')").output, "again\n");
}

TEST_F(PythonSessionTest, TenMegabytesOfOutputKeepHeadAndTail) {
  config_.limits.output_bytes = 4096;
  PythonSession python(config_);
  CellResult r = python.run("print('START' + 'a' * 10_000_000 + 'END')");
  EXPECT_EQ(r.status, CellStatus::kOk);
  EXPECT_EQ(r.output_bytes, 10'000'009);
  EXPECT_TRUE(r.output_truncated);
  EXPECT_LT(r.output.size(), 4096u + 64u);
  EXPECT_EQ(r.output.substr(0, 5), "START");
  EXPECT_EQ(r.output.substr(r.output.size() - 4), "END\n");
}

TEST_F(PythonSessionTest, CancelStopsACellAndRestarts) {
  PythonSession python(config_);
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  CellResult r = python.run("import time\ntime.sleep(30)", &cancel);
  stopper.join();
  EXPECT_EQ(r.status, CellStatus::kCancelled);
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(python.run("print('fresh')").output, "fresh\n");
}

TEST_F(PythonSessionTest, RunsInTheWorkdirWithAScrubbedEnvironment) {
  ::setenv("ARLE_TEST_SECRET_TOKEN", "hunter2", 1);
  PythonSession python(config_);
  CellResult r = python.run(
      "import os\nprint(os.getcwd())\nprint(os.environ.get('ARLE_TEST_SECRET_TOKEN'))\n"
      "open('made.txt', 'w').write('x')");
  ::unsetenv("ARLE_TEST_SECRET_TOKEN");
  EXPECT_EQ(r.output, fs::canonical(scratch_.path()).string() + "\nNone\n1\n");
  EXPECT_TRUE(fs::exists(scratch_.path() / "made.txt"));
}

TEST_F(PythonSessionTest, BubblewrapKeepsTheSystemReadOnlyAndStateAlive) {
  ARLE_REQUIRE_BUBBLEWRAP();
  config_.isolation = Isolation::kBubblewrap;
  PythonSession python(config_);
  CellResult r = python.run(
      "open('inside.txt', 'w').write('ok')\ntry:\n    open('/etc/arle_probe', 'w')\n"
      "except OSError as e:\n    print(type(e).__name__, e.errno)");
  EXPECT_TRUE(r.isolated);
  EXPECT_EQ(r.output, "OSError 30\n") << r.output;  // EROFS
  EXPECT_TRUE(fs::exists(scratch_.path() / "inside.txt"));
  EXPECT_FALSE(fs::exists("/etc/arle_probe"));
  CellResult pid = python.run("import os\nos.getpid() < 10");
  EXPECT_EQ(pid.output, "True\n");  // its own PID namespace
}

}  // namespace
}  // namespace arle::agent
