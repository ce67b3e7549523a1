#include "cli/run_command.h"

#include <fmt/format.h>
#include <signal.h>

#include <iostream>
#include <iterator>

#include "cli/agent_view.h"
#include "cli/interrupt.h"
#include "common/error.h"

namespace arle::cli {

void add_run_options(CLI::App& run, RunOptions& o) {
  run.add_option("--prompt", o.prompt, "the task");
  run.add_flag("--stdin", o.from_stdin, "read the task from stdin");
  run.add_flag("--json", o.json, "print {final, stop_reason, turns, usage, tool_calls} as JSON at the end");
  add_agent_options(run, o.agent, /*top_level=*/false);
  add_engine_options(run, o.agent.engine);
}

int run_agent_task(const RunOptions& o, const ModelWrapper& wrap_model) {
  if (o.prompt.has_value() == o.from_stdin) throw_error(ErrorCode::kInvalidArgument, "give one of --prompt or --stdin");
  std::string task;
  if (o.prompt) {
    task = *o.prompt;
  } else {
    task.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!task.empty() && (task.back() == '\n' || task.back() == '\r')) task.pop_back();  // echo's newline
  }
  if (task.find_first_not_of(" \t\r\n") == std::string::npos)
    throw_error(ErrorCode::kInvalidArgument, "the task is empty");
  AgentSession session(o.agent, agent::Approval::kNever, wrap_model);
  if (session.toolbox() && !o.agent.approve) {
    throw_error(ErrorCode::kInvalidArgument,
                "arle run runs tools only with --approve auto (or decline them all with --approve never, or pass "
                "--no-tools)");
  }
  if (session.toolbox() && session.approval() == agent::Approval::kAsk) {
    throw_error(ErrorCode::kInvalidArgument, "arle run cannot ask before tool calls: use --approve auto or never");
  }
  ViewStyle style;
  style.answer = stdout;
  style.details = stderr;
  style.color = use_color(stderr);
  AgentView view(style);
  agent::AgentEvents events = view.events();
  if (o.json) events.stream.content = nullptr;
  if (session.tracing()) events.trace = [&](const nlohmann::ordered_json& r) { session.trace(r); };
  std::fputs(session.describe().c_str(), stderr);

  InterruptScope interrupt;
  const agent::TaskResult result = session.agent().send(task, events, interrupt.flag());
  view.end_line();
  if (o.json) {
    std::fputs((result.to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n").c_str(),
               stdout);
  } else if (!result.final_text.empty() && result.final_text.back() != '\n') {
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  if (result.stop_reason == "max_turns") view.note(fmt::format("[stopped after --max-turns {}]", o.agent.max_turns));
  if (result.stop_reason == "cancelled") return 130;
  if (result.stop_reason == "error") {
    if (o.json) return 1;
    throw_error(ErrorCode::kIo, "{}", result.error);
  }
  return 0;
}

}  // namespace arle::cli
