#include "agent/python_session.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "agent/output_capture.h"
#include "agent/python_driver.h"
#include "common/error.h"

namespace arle::agent {
namespace {

using Clock = std::chrono::steady_clock;

// How long a cell past its timeout may take to come back with its
// TimeoutError before the interpreter is killed.
constexpr double kGraceSeconds = 2.0;

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

PythonSession::PythonSession(SandboxConfig config) : config_(std::move(config)) {}

PythonSession::~PythonSession() { stop(); }

void PythonSession::restart() { stop(); }

void PythonSession::stop() {
  if (pid_ > 0) kill_and_reap(pid_);
  pid_ = -1;
  close_fd(channel_);
  close_fd(output_);
}

bool PythonSession::start(CellResult& result) {
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    throw_error(ErrorCode::kIo, "socketpair: {}", std::strerror(errno));
  }
  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    ::close(channel[0]);
    ::close(channel[1]);
    throw_error(ErrorCode::kIo, "pipe: {}", std::strerror(errno));
  }
  ChildFds fds;
  fds.output_fd = output[1];
  fds.extra = {{channel[1], 3}};
  SpawnedProcess spawned;
  try {
    // Unbounded hard CPU limit: the driver moves the soft limit per cell.
    SandboxConfig config = config_;
    config.limits.cpu_seconds = 0;
    spawned = spawn_sandboxed({"python3", "-u", "-c", kPythonDriver}, config, fds);
  } catch (...) {
    for (int fd : {channel[0], channel[1], output[0], output[1]}) ::close(fd);
    throw;
  }
  ::close(channel[1]);
  ::close(output[1]);
  if (spawned.pid < 0) {
    ::close(channel[0]);
    ::close(output[0]);
    result.status = CellStatus::kNotStarted;
    result.output = spawned.failure;
    result.note = "the python tool needs python3 on /usr/bin or /usr/local/bin";
    return false;
  }
  pid_ = spawned.pid;
  channel_ = channel[0];
  output_ = output[0];
  isolated_ = spawned.isolated;
  ::fcntl(output_, F_SETFL, O_NONBLOCK);
  ::fcntl(channel_, F_SETFL, O_NONBLOCK);
  return true;
}

CellResult PythonSession::run(const std::string& code, const std::atomic<bool>* cancel) {
  CellResult result;
  const auto start_time = Clock::now();
  if (pid_ <= 0 && !start(result)) return result;
  result.isolated = isolated_;
  const SandboxLimits& limits = config_.limits;
  const auto cpu_seconds = static_cast<long long>(limits.cpu_seconds > 0 ? limits.cpu_seconds : 1 << 20);
  const std::string request = fmt::format("{} {} {}\n", limits.timeout_seconds, cpu_seconds, code.size()) + code;
  std::size_t sent = 0;
  std::string reply;
  OutputCapture capture(limits.output_bytes);
  const auto soft_deadline =
      start_time + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.timeout_seconds));
  const auto hard_deadline =
      soft_deadline + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kGraceSeconds));
  bool ended = false;  // the interpreter closed its channel (it died)
  char buffer[65536];
  auto drain_output = [&] {
    for (;;) {
      const ssize_t n = ::read(output_, buffer, sizeof buffer);
      if (n > 0) {
        capture.append(std::string_view(buffer, static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  };
  while (reply.find('\n') == std::string::npos && !ended) {
    pollfd fds[2] = {{output_, POLLIN, 0},
                     {channel_, static_cast<short>(POLLIN | (sent < request.size() ? POLLOUT : 0)), 0}};
    ::poll(fds, 2, 20);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) drain_output();
    if (sent < request.size() && (fds[1].revents & POLLOUT)) {
      const ssize_t n = ::send(channel_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) ended = true;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(channel_, buffer, sizeof buffer);
      if (n > 0) reply.append(buffer, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) ended = true;
    }
    const bool cancelled = cancel && cancel->load();
    if (cancelled || Clock::now() >= hard_deadline) {
      drain_output();
      stop();
      result.status = cancelled ? CellStatus::kCancelled : CellStatus::kTimeout;
      result.note = cancelled ? "stopped by the user; the python session was restarted and its variables are gone"
                              : fmt::format(
                                    "the cell did not stop at its {:g} s timeout; the python session was "
                                    "killed and restarted, and its variables are gone",
                                    limits.timeout_seconds);
      break;
    }
  }
  if (pid_ > 0) {
    drain_output();  // the driver flushed everything before answering
    if (ended) {
      // The interpreter died under the cell (os._exit, a crash, SIGXCPU).
      const int status = kill_and_reap(pid_);
      pid_ = -1;
      stop();
      result.status = CellStatus::kRestarted;
      result.note =
          fmt::format("the python interpreter {}; its variables are gone and the next call starts a fresh one",
                      describe_wait_status(status));
    } else {
      std::string status = "error";
      try {
        status = nlohmann::json::parse(reply.substr(0, reply.find('\n'))).value("status", "error");
      } catch (const std::exception&) {
      }
      result.status = status == "ok"        ? CellStatus::kOk
                      : status == "timeout" ? CellStatus::kTimeout
                      : status == "exit"    ? CellStatus::kExit
                                            : CellStatus::kException;
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start_time).count();
  result.output = capture.text();
  result.output_bytes = capture.total_bytes();
  result.output_truncated = capture.truncated();
  return result;
}

}  // namespace arle::agent
