#pragma once
// The python tool: one python3 interpreter per agent session, kept alive
// between calls so variables, imports and functions carry over, running in
// the same sandbox as the shell tool (sandbox.h) with python_driver.h as its
// program. Each call ("cell") has the sandbox's limits: the wall-clock
// timeout first interrupts the cell inside the interpreter (state kept); if
// the interpreter does not answer within a grace period, or the user
// cancels, or the cell kills the interpreter (os._exit, memory, CPU), the
// whole process tree is killed and the next call starts a fresh interpreter,
// and the result says that the state is gone.

#include <sys/types.h>

#include <atomic>
#include <string>

#include "agent/sandbox.h"

namespace arle::agent {

// How a cell ended, for the model.
enum class CellStatus { kOk, kException, kTimeout, kExit, kRestarted, kCancelled, kNotStarted };

struct CellResult {
  CellStatus status = CellStatus::kOk;
  std::string output;  // stdout and stderr as they came, within the budget
  std::int64_t output_bytes = 0;
  bool output_truncated = false;
  bool isolated = false;
  double seconds = 0;
  std::string note;  // why the interpreter was restarted or could not start
};

class PythonSession {
 public:
  explicit PythonSession(SandboxConfig config);
  ~PythonSession();
  PythonSession(const PythonSession&) = delete;
  PythonSession& operator=(const PythonSession&) = delete;

  CellResult run(const std::string& code, const std::atomic<bool>* cancel = nullptr);
  // Ends the interpreter; the next run() starts a fresh one (/reset).
  void restart();
  bool alive() const { return pid_ > 0; }

 private:
  bool start(CellResult& result);
  void stop();

  SandboxConfig config_;
  pid_t pid_ = -1;
  int channel_ = -1;  // our end of the interpreter's fd 3
  int output_ = -1;   // the read end of its stdout and stderr
  bool isolated_ = false;
};

}  // namespace arle::agent
