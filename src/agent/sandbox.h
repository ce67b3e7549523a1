#pragma once
// Runs one tool command (shell or python) where it can do little harm: in
// its own session and process group, stdin closed, an environment of a few
// known variables (no secrets of the caller), rlimits on memory, CPU time and
// file size, a wall-clock timeout that kills the whole process tree, and
// stdout and stderr captured together within a byte budget (OutputCapture).
// With bubblewrap the command also sees the system read-only, only its
// working directory and a private /tmp writable, no network and its own PID
// namespace; without it, that isolation is missing and `isolated` says so.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace arle::agent {

enum class Isolation {
  kAuto,        // bubblewrap when it works here, else none
  kBubblewrap,  // bubblewrap or an error
  kNone,        // limits only
};

struct SandboxLimits {
  double timeout_seconds = 30;
  std::int64_t memory_bytes = std::int64_t{4} << 30;  // address space (RLIMIT_AS)
  std::int64_t cpu_seconds = 120;
  std::int64_t file_bytes = std::int64_t{1} << 30;  // largest file written
  std::size_t output_bytes = 16 << 10;              // kept of what the command printed
};

struct SandboxConfig {
  std::filesystem::path workdir;  // must exist; the command's cwd and HOME
  Isolation isolation = Isolation::kAuto;
  SandboxLimits limits;
};

struct SandboxResult {
  int exit_code = -1;  // when the command exited
  int signal = 0;      // when a signal ended it (SIGKILL after a timeout)
  bool timed_out = false;
  bool cancelled = false;
  bool isolated = false;  // ran under bubblewrap
  std::string output;     // stdout and stderr as they came, kept within the budget
  std::int64_t output_bytes = 0;
  bool output_truncated = false;
  double seconds = 0;
  // A line for the model: "exit 0", "exit 2", "killed after the 30 s timeout", ...
  std::string status() const;
};

// Whether bubblewrap is installed and can make namespaces here (checked once).
bool bubblewrap_works();
// Whether commands run with `config` get bubblewrap's isolation.
bool runs_isolated(const SandboxConfig& config);

// Runs argv (argv[0] found on PATH) in the sandbox; `input` is written to its
// stdin, else stdin is /dev/null. `cancel` (may be null) stops it early, as a
// timeout does. Throws arle::Error only when it cannot start (no workdir,
// bubblewrap required but unusable, fork failing).
SandboxResult run_sandboxed(const std::vector<std::string>& argv, const SandboxConfig& config,
                            const std::optional<std::string>& input = std::nullopt,
                            const std::atomic<bool>* cancel = nullptr);

// Lower level, for a tool that keeps a process alive between calls (the
// python tool): starts argv in the sandbox with `stdin_fd` (-1: /dev/null)
// as stdin, `output_fd` as stdout and stderr, and each `extra` pair's first
// fd as the second's number. The process leads its own process group.
struct ChildFds {
  int stdin_fd = -1;
  int output_fd = -1;
  std::vector<std::pair<int, int>> extra;
};
struct SpawnedProcess {
  pid_t pid = -1;         // -1 when it could not start
  bool isolated = false;  // under bubblewrap
  std::string failure;    // why it could not start ("python3: command not found")
};
// Throws as run_sandboxed does.
SpawnedProcess spawn_sandboxed(const std::vector<std::string>& argv, const SandboxConfig& config, const ChildFds& fds);
// SIGKILLs the process's whole group, then reaps the process: its wait status.
int kill_and_reap(pid_t pid);

}  // namespace arle::agent
