#include "agent/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "agent/output_capture.h"
#include "common/error.h"

namespace arle::agent {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kToolPath = "/usr/local/bin:/usr/bin:/bin";

// Only these reach a tool: nothing of the caller's environment (API keys,
// tokens, cloud credentials) is passed on.
std::vector<std::string> tool_environment(const fs::path& workdir) {
  return {std::string("PATH=") + kToolPath,
          "HOME=" + workdir.string(),
          "LANG=C.UTF-8",
          "LC_ALL=C.UTF-8",
          "TERM=dumb",
          "NO_COLOR=1",
          "TMPDIR=/tmp",
          "PYTHONUNBUFFERED=1",
          "PYTHONDONTWRITEBYTECODE=1"};
}

// The first executable `name` on the tools' PATH (names with a slash as given).
std::optional<std::string> find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path = kToolPath;
  while (!path.empty()) {
    const std::size_t colon = path.find(':');
    const fs::path candidate = fs::path(std::string(path.substr(0, colon))) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
  }
  return std::nullopt;
}

// bubblewrap's view: the system read-only, /tmp private, the workdir
// writable, fresh namespaces (no network; its own PIDs, so killing bwrap
// kills everything inside).
std::vector<std::string> bubblewrap_prefix(const std::string& bwrap, const fs::path& workdir) {
  std::vector<std::string> a = {bwrap, "--die-with-parent", "--new-session", "--unshare-all"};
  for (const char* dir : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"}) {
    a.insert(a.end(), {"--ro-bind-try", dir, dir});
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", workdir.string(),
                     workdir.string(), "--chdir", workdir.string(), "--"});
  return a;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void set_limit(int resource, std::int64_t value) {
  if (value <= 0) return;
  const rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  ::setrlimit(resource, &limit);
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_error(ErrorCode::kIo, "pipe: {}", std::strerror(errno));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

// Runs a command to its end with no input and no limits beyond a short
// timeout; its exit code (-1 when it could not run or took too long).
int run_quietly(std::vector<std::string> argv, const fs::path& workdir) {
  SandboxConfig config;
  config.workdir = workdir;
  config.isolation = Isolation::kNone;
  config.limits.timeout_seconds = 10;
  config.limits.output_bytes = 1024;
  const SandboxResult r = run_sandboxed(argv, config);
  return r.signal == 0 && !r.timed_out ? r.exit_code : -1;
}

}  // namespace

std::string SandboxResult::status() const {
  if (cancelled) return "stopped by the user";
  if (timed_out) return fmt::format("killed at the {:.3g} s timeout", seconds);
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  return fmt::format("exit {}", exit_code);
}

bool bubblewrap_works() {
  static std::once_flag once;
  static bool works = false;
  std::call_once(once, [] {
    const std::optional<std::string> bwrap = find_executable("bwrap");
    if (!bwrap) return;
    std::vector<std::string> argv = bubblewrap_prefix(*bwrap, "/tmp");
    argv.push_back("true");
    works = run_quietly(argv, "/tmp") == 0;
  });
  return works;
}

bool runs_isolated(const SandboxConfig& config) { return config.isolation != Isolation::kNone && bubblewrap_works(); }

SpawnedProcess spawn_sandboxed(const std::vector<std::string>& command, const SandboxConfig& config,
                               const ChildFds& fds) {
  if (command.empty()) throw_error(ErrorCode::kInvalidArgument, "run_sandboxed: empty command");
  std::error_code ec;
  if (!fs::is_directory(config.workdir, ec)) {
    throw_error(ErrorCode::kNotFound, "tool working directory {} does not exist", config.workdir.string());
  }
  const fs::path workdir = fs::absolute(config.workdir);
  SpawnedProcess spawned;
  std::vector<std::string> argv = command;
  if (runs_isolated(config)) {
    argv = bubblewrap_prefix(*find_executable("bwrap"), workdir);
    argv.insert(argv.end(), command.begin(), command.end());
    spawned.isolated = true;
  } else if (config.isolation == Isolation::kBubblewrap) {
    throw_error(ErrorCode::kUnsupported,
                "tools must run isolated, but bubblewrap is missing or cannot create namespaces here "
                "(apt-get install bubblewrap)");
  }
  const std::optional<std::string> executable = find_executable(argv[0]);
  if (!executable) {
    spawned.failure = fmt::format("{}: command not found", argv[0]);
    return spawned;
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> environment = tool_environment(workdir);
  std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(environment);
  Pipe exec_error;
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (null_fd >= 0) ::close(null_fd);
    throw_error(ErrorCode::kIo, "fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    ::setsid();  // its own process group: a timeout kills the group
    set_limit(RLIMIT_AS, config.limits.memory_bytes);
    set_limit(RLIMIT_CPU, config.limits.cpu_seconds);
    set_limit(RLIMIT_FSIZE, config.limits.file_bytes);
    // Extra fds go above any target number first, so no dup2 below
    // overwrites a source still to be moved.
    int moved[8];
    const std::size_t extras = std::min<std::size_t>(fds.extra.size(), 8);
    for (std::size_t i = 0; i < extras; ++i) moved[i] = ::fcntl(fds.extra[i].first, F_DUPFD_CLOEXEC, 64);
    ::dup2(fds.stdin_fd >= 0 ? fds.stdin_fd : null_fd, 0);
    ::dup2(fds.output_fd, 1);
    ::dup2(fds.output_fd, 2);
    for (std::size_t i = 0; i < extras; ++i) ::dup2(moved[i], fds.extra[i].second);  // dup2 clears CLOEXEC
    if (::chdir(workdir.c_str()) == 0) ::execve(executable->c_str(), c_argv.data(), c_env.data());
    const int error = errno;
    [[maybe_unused]] const ssize_t n = ::write(exec_error.write, &error, sizeof error);
    ::_exit(127);
  }
  if (null_fd >= 0) ::close(null_fd);
  exec_error.close_write();
  // Returns 0 bytes once exec succeeded (the pipe is close-on-exec).
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_error.read, &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    spawned.failure = fmt::format("{}: cannot run: {}", argv[0], std::strerror(exec_errno));
    return spawned;
  }
  spawned.pid = pid;
  return spawned;
}

int kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

SandboxResult run_sandboxed(const std::vector<std::string>& command, const SandboxConfig& config,
                            const std::optional<std::string>& input, const std::atomic<bool>* cancel) {
  Pipe output, stdin_pipe;
  ChildFds fds;
  fds.stdin_fd = input ? stdin_pipe.read : -1;
  fds.output_fd = output.write;
  const auto start = Clock::now();
  const SpawnedProcess spawned = spawn_sandboxed(command, config, fds);
  SandboxResult result;
  result.isolated = spawned.isolated;
  if (spawned.pid < 0) {
    result.exit_code = 127;
    result.output = spawned.failure;
    return result;
  }
  const pid_t pid = spawned.pid;
  output.close_write();
  stdin_pipe.close_read();
  if (!input) stdin_pipe.close_write();

  OutputCapture capture(config.limits.output_bytes);
  std::size_t written = 0;
  if (input) ::fcntl(stdin_pipe.write, F_SETFL, O_NONBLOCK);
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.limits.timeout_seconds));
  int status = 0;
  bool exited = false;
  Clock::time_point exited_at;
  char buffer[65536];
  for (;;) {
    pollfd fds_to_poll[2] = {{output.read, POLLIN, 0}, {stdin_pipe.write, POLLOUT, 0}};
    const int nfds = output.read < 0 ? 0 : (stdin_pipe.write >= 0 ? 2 : 1);
    if (nfds > 0) ::poll(fds_to_poll, static_cast<nfds_t>(nfds), 20);
    if (nfds > 1 && (fds_to_poll[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::write(stdin_pipe.write, input->data() + written, input->size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN) written = input->size();  // the tool closed its stdin
      if (written == input->size()) stdin_pipe.close_write();
    }
    if (output.read >= 0 && (fds_to_poll[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::read(output.read, buffer, sizeof buffer);
      if (n > 0) {
        capture.append(std::string_view(buffer, static_cast<std::size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        output.close_read();  // EOF: nothing in the tree holds the pipe any more
      }
    }
    siginfo_t info{};
    if (!exited && ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      // Background children of a finished command go with it; their pipe
      // ends close, so the reads above see EOF. The group is killed before
      // the command is reaped: until then its id cannot be reused.
      status = kill_and_reap(pid);
      exited = true;
      exited_at = Clock::now();
    }
    if (exited && output.read < 0) break;
    if (nfds == 0) ::usleep(20000);
    const bool stop = cancel && cancel->load();
    if (!exited && (stop || Clock::now() >= deadline)) {
      (stop ? result.cancelled : result.timed_out) = true;
      status = kill_and_reap(pid);
      exited = true;
      exited_at = Clock::now();
    }
    // A grandchild that left the group may still hold the pipe: stop reading
    // a moment after the command ended.
    if (exited && Clock::now() >= exited_at + std::chrono::seconds(1)) break;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.output = capture.text();
  result.output_bytes = capture.total_bytes();
  result.output_truncated = capture.truncated();
  return result;
}

}  // namespace arle::agent
