#include "cli/interrupt.h"

#include <signal.h>

namespace arle::cli {
namespace {

std::atomic<bool> g_interrupted{false};
struct sigaction g_previous;

void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    // Asked twice: leave as SIGINT would.
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
  }
}

}  // namespace

InterruptScope::InterruptScope() {
  g_interrupted = false;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART
  ::sigaction(SIGINT, &action, &g_previous);
}

InterruptScope::~InterruptScope() { ::sigaction(SIGINT, &g_previous, nullptr); }

const std::atomic<bool>* InterruptScope::flag() const { return &g_interrupted; }
bool InterruptScope::interrupted() const { return g_interrupted.load(); }
void InterruptScope::clear() { g_interrupted = false; }

}  // namespace arle::cli
