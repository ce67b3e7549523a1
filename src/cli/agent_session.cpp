#include "cli/agent_session.h"

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>

#include <cstdlib>

#include "agent/local_chat_backend.h"
#include "agent/remote_chat_backend.h"
#include "cli/model_resolution.h"
#include "common/error.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/eos_tokens.h"
#include "model/generation_config.h"
#include "model/model_config.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace arle::cli {
namespace {

namespace fs = std::filesystem;

agent::Isolation parse_isolation(const std::string& s) {
  if (s == "auto") return agent::Isolation::kAuto;
  if (s == "bwrap") return agent::Isolation::kBubblewrap;
  if (s == "none") return agent::Isolation::kNone;
  throw_error(ErrorCode::kInvalidArgument, "--sandbox must be auto, bwrap or none, not '{}'", s);
}

}  // namespace

void add_agent_options(CLI::App& app, AgentCommandOptions& o, bool top_level) {
  if (!top_level) {
    app.add_option("--model-path", o.model_path, "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
  }
  add_compute_options(app, o.compute);
  app.add_option("--base-url", o.base_url, "an OpenAI-compatible server instead, e.g. http://HOST:8000/v1");
  app.add_option("--model", o.model, "with --base-url: the model id (default: the server's first)");
  app.add_option("--api-key", o.api_key, "with --base-url: sent as 'Authorization: Bearer KEY' (or $OPENAI_API_KEY)");
  app.add_option("--max-model-len", o.max_model_len, "prompt + output limit (default: the model's)");
  app.add_option("--workdir", o.workdir, "the tools' working directory (default: a fresh one under $TMPDIR)");
  app.add_option("--sandbox", o.sandbox, "auto (bubblewrap when it works), bwrap (required) or none");
  app.add_option("--tool-timeout", o.tool_timeout, "seconds one tool call may run (default 30)");
  app.add_option("--approve", o.approve, "ask, auto or never: run tool calls after asking, always, or never");
  app.add_flag("--no-tools", o.no_tools, "no shell or python tool: the model only answers");
  app.add_option("--max-turns", o.max_turns, "model turns for one message (default 20)");
  app.add_option("--max-tokens", o.max_tokens, "tokens per model turn (default: what the context has room for)");
  app.add_option("--temperature", o.temperature, "sampling temperature (default: generation_config.json)");
  app.add_option("--top-p", o.top_p, "nucleus sampling mass in (0, 1]");
  app.add_option("--top-k", o.top_k, "keep the k most likely tokens (0: off)");
  app.add_option("--seed", o.seed, "random seed for sampling");
  app.add_option("--system", o.system, "system prompt");
  app.add_flag("--no-think", o.no_think, "ask models that think (Qwen3) to answer without <think>");
  app.add_option("--trace", o.trace, "write every turn and tool call to this file as JSON lines");
}

AgentSession::AgentSession(const AgentCommandOptions& o, agent::Approval default_approval,
                           const ModelWrapper& wrap_model) {
  approval_ = o.approve ? agent::parse_approval(*o.approve) : default_approval;
  // A tool or server that goes away must not end the session with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  if (o.tool_timeout <= 0 || o.tool_timeout > 86400) {
    throw_error(ErrorCode::kInvalidArgument, "--tool-timeout {} must be in (0, 86400]", o.tool_timeout);
  }
  if (o.max_tokens < 0) throw_error(ErrorCode::kInvalidArgument, "--max-tokens must be >= 0");
  const agent::Isolation isolation = parse_isolation(o.sandbox);
  if (o.trace) {
    trace_file_ = std::fopen(o.trace->c_str(), "w");
    if (!trace_file_) throw_error(ErrorCode::kIo, "--trace {}: cannot write it", *o.trace);
  }

  if (o.base_url) {
    std::string key = o.api_key.value_or("");
    if (key.empty()) {
      if (const char* env = std::getenv("OPENAI_API_KEY")) key = env;
    }
    backend_ = std::make_unique<agent::RemoteChatBackend>(*o.base_url, o.model.value_or(""), key);
    backend_line_ = fmt::format("{} on {}", backend_->model_name(), *o.base_url);
  } else {
    const ModelResolution resolved = resolve_model(o.model_path);
    const std::string path = resolved.path.string();
    const model::ModelConfig config = model::load_model_config(path);
    const std::int64_t max_len = max_model_len(o.max_model_len, config);
    apply_threads(o.compute);
    tokenizer_ = text::Tokenizer::load(path);
    try {
      chat_template_ = std::make_unique<text::ChatTemplate>(text::ChatTemplate::load(path));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
    }
    model_ = load_model(path, o.compute);
    if (wrap_model) model_ = wrap_model(std::move(model_), *tokenizer_);
    engine_ = std::make_unique<engine::Engine>(*model_, *tokenizer_, engine_config(o.engine));
    agent::LocalModel local;
    local.engine = engine_.get();
    local.tokenizer = tokenizer_.get();
    local.chat_template = chat_template_.get();
    local.generation = model::load_generation_config(path);
    local.eos_token_ids = engine::model_eos_token_ids(config, local.generation, *tokenizer_);
    local.max_model_len = max_len;
    local.vocab_size = config.vocab_size;
    local.cache_namespace = fs::absolute(path).string();
    local.name = resolved.path.filename().string();
    backend_ = std::make_unique<agent::LocalChatBackend>(local);
    backend_line_ = fmt::format("{} ({}, {}{})", local.name, model_->device_name(),
                                chat_template_ ? "chat template" : "no chat template: plain text",
                                resolved.source == "bundled default" ? ", the bundled default" : "");
  }

  if (o.no_tools) {
    tools_off_reason_ = "--no-tools";
  } else if (!backend_->supports_tools()) {
    tools_off_reason_ = "the model's chat template has no tool-call format";
  }
  if (tools_off_reason_.empty()) {
    if (o.workdir) {
      workdir_ = fs::absolute(*o.workdir);
      std::error_code ec;
      fs::create_directories(workdir_, ec);
      if (!fs::is_directory(workdir_))
        throw_error(ErrorCode::kInvalidArgument, "--workdir {}: not a directory", *o.workdir);
    } else {
      std::string pattern = (fs::temp_directory_path() / "arle-agent-XXXXXX").string();
      if (!::mkdtemp(pattern.data()))
        throw_error(ErrorCode::kIo, "cannot make a working directory under {}", fs::temp_directory_path().string());
      workdir_ = pattern;
      made_workdir_ = true;
    }
    agent::SandboxConfig sandbox;
    sandbox.workdir = workdir_;
    sandbox.isolation = isolation;
    sandbox.limits.timeout_seconds = o.tool_timeout;
    if (isolation == agent::Isolation::kBubblewrap && !agent::bubblewrap_works()) {
      throw_error(ErrorCode::kUnsupported, "--sandbox bwrap: bubblewrap is missing or cannot create namespaces here");
    }
    toolbox_ = std::make_unique<agent::Toolbox>(sandbox);
  }

  agent::AgentConfig config;
  config.max_turns = o.max_turns;
  config.approval = approval_;
  config.generation.max_tokens = o.max_tokens;
  config.generation.temperature = o.temperature;
  config.generation.top_p = o.top_p;
  config.generation.top_k = o.top_k;
  config.generation.seed = o.seed;
  if (o.no_think) config.generation.template_kwargs["enable_thinking"] = false;
  agent_ = std::make_unique<agent::Agent>(*backend_, toolbox_.get(), config);
  if (o.system) agent_->set_system_prompt(*o.system);
}

AgentSession::~AgentSession() {
  agent_.reset();
  toolbox_.reset();  // ends the python interpreter before its workdir goes
  if (made_workdir_) {
    std::error_code ec;
    if (fs::is_empty(workdir_, ec)) fs::remove(workdir_, ec);
  }
  if (trace_file_) std::fclose(trace_file_);
}

std::string AgentSession::describe() const {
  std::string out = fmt::format("model: {}\n", backend_line_);
  if (!toolbox_) {
    out += fmt::format("tools: off ({})\n", tools_off_reason_);
    return out;
  }
  const char* approval = approval_ == agent::Approval::kAsk    ? "asks before each call"
                         : approval_ == agent::Approval::kAuto ? "runs calls without asking"
                                                               : "declines every call";
  const bool isolated = agent::runs_isolated(toolbox_->sandbox());
  out += fmt::format("tools: shell, python; {}; {}\n", approval,
                     isolated ? "isolated by bubblewrap (read-only system, no network)"
                              : "NOT isolated (no bubblewrap): tools can read and write what you can");
  out += fmt::format("workdir: {}\n", workdir_.string());
  return out;
}

void AgentSession::trace(const nlohmann::ordered_json& record) {
  if (!trace_file_) return;
  std::fputs((record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n").c_str(),
             trace_file_);
  std::fflush(trace_file_);
}

}  // namespace arle::cli
