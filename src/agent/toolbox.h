#pragma once
// The agent's tools as the model sees them: `shell` (bash -c) and `python`
// (a persistent interpreter, python_session.h), both in the sandbox
// (sandbox.h) and in one working directory. call() never throws for what the
// model got wrong (an unknown tool, arguments that are not the schema's): the
// model reads an error as the tool's result and can try again.

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/python_session.h"
#include "agent/sandbox.h"

namespace arle::agent {

struct ToolResult {
  std::string content;  // what the model reads
  bool ok = false;      // exit 0, no exception
  std::string status;   // one line for people: "exit 0", "killed at the 30 s timeout", ...
  double seconds = 0;
  bool isolated = false;
  std::int64_t output_bytes = 0;
};

class Toolbox {
 public:
  explicit Toolbox(SandboxConfig sandbox);
  // OpenAI "tools" (function schemas) for the chat template or the server.
  nlohmann::ordered_json schemas() const;
  ToolResult call(const std::string& name, const std::string& arguments_json,
                  const std::atomic<bool>* cancel = nullptr);
  // A fresh python interpreter (its variables gone); the workdir stays.
  void reset() { python_.restart(); }
  const SandboxConfig& sandbox() const { return sandbox_; }

 private:
  ToolResult shell(const std::string& command, const std::atomic<bool>* cancel);
  ToolResult python(const std::string& code, const std::atomic<bool>* cancel);

  SandboxConfig sandbox_;
  PythonSession python_;
};

}  // namespace arle::agent
