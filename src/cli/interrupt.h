#pragma once
// Ctrl-C for the agent: while an InterruptScope lives, SIGINT sets a flag
// that the running generation or tool watches (it stops, the session goes
// on); a second Ctrl-C before the flag is cleared ends the process as SIGINT
// would. System calls are not restarted, so a blocking read (the REPL's
// line editor) returns and can see the flag.

#include <atomic>

namespace arle::cli {

class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  const std::atomic<bool>* flag() const;
  bool interrupted() const;
  void clear();
};

}  // namespace arle::cli
