#pragma once
// What `arle` (the REPL) and `arle run` share: their flags, and the session
// they build from them: the model (the engine in this process, or an
// OpenAI-compatible server with --base-url), the tools in a working
// directory and sandbox, and the Agent that loops over them.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent.h"
#include "agent/chat_backend.h"
#include "agent/toolbox.h"
#include "cli/compute_options.h"
#include "cli/engine_options.h"

namespace arle::engine {
class Engine;
}
namespace arle::text {
class ChatTemplate;
}

namespace arle::cli {

struct AgentCommandOptions {
  std::optional<std::string> model_path;  // else $ARLE_MODEL, else the bundled model
  std::optional<std::string> base_url, model, api_key;
  ComputeOptions compute;
  EngineOptions engine;
  std::optional<std::int64_t> max_model_len;
  std::optional<std::string> workdir;  // else a fresh directory under $TMPDIR
  std::string sandbox = "auto";        // auto, bwrap or none
  double tool_timeout = 30;
  std::optional<std::string> approve;  // ask, auto or never (defaults differ: REPL ask, run none)
  bool no_tools = false;
  int max_turns = 20;
  std::int64_t max_tokens = 0;  // per model turn; 0: what the context has room for
  std::optional<double> temperature, top_p;
  std::optional<std::int64_t> top_k;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> system;
  bool no_think = false;             // enable_thinking=false for templates that know it
  std::optional<std::string> trace;  // JSONL file
};

// `top_level`: the flags go on `arle` itself, where --model-path already exists.
void add_agent_options(CLI::App& app, AgentCommandOptions& o, bool top_level);

class AgentSession {
 public:
  // Loads the model (or checks the server), makes the workdir and tools.
  // `default_approval` applies when --approve is not given.
  AgentSession(const AgentCommandOptions& options, agent::Approval default_approval,
               const ModelWrapper& wrap_model = {});
  ~AgentSession();

  agent::Agent& agent() { return *agent_; }
  agent::ChatBackend& backend() { return *backend_; }
  agent::Toolbox* toolbox() { return toolbox_.get(); }
  agent::Approval approval() const { return approval_; }
  const std::filesystem::path& workdir() const { return workdir_; }
  // Why tools are off ("--no-tools", "the model has no tool-call format"), empty when on.
  const std::string& tools_off_reason() const { return tools_off_reason_; }
  // One line each: model, tools and sandbox, working directory.
  std::string describe() const;
  // Writes one --trace record (no-op without --trace).
  void trace(const nlohmann::ordered_json& record);
  bool tracing() const { return trace_file_ != nullptr; }

 private:
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<text::ChatTemplate> chat_template_;
  std::unique_ptr<model::CausalLm> model_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<agent::ChatBackend> backend_;
  std::unique_ptr<agent::Toolbox> toolbox_;
  std::unique_ptr<agent::Agent> agent_;
  agent::Approval approval_ = agent::Approval::kAsk;
  std::filesystem::path workdir_;
  bool made_workdir_ = false;
  std::string tools_off_reason_;
  std::string backend_line_;
  std::FILE* trace_file_ = nullptr;
};

}  // namespace arle::cli
