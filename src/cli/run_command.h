#pragma once
// `arle run`: one task for the agent, then exit. The answer streams to
// stdout (or, with --json, one object {final, stop_reason, turns, usage,
// tool_calls} at the end); reasoning and tool lines go to stderr. Tools run
// only with --approve auto (there is nobody to ask) or are declined with
// --approve never. Exit status: 0 when the model answered (or hit
// --max-turns, which stop_reason tells), 1 on a model or server error, 2 for
// a bad command line, 130 when Ctrl-C stopped it.

#include <optional>
#include <string>

#include "cli/agent_session.h"

namespace arle::cli {

struct RunOptions {
  AgentCommandOptions agent;
  std::optional<std::string> prompt;
  bool from_stdin = false;
  bool json = false;
};

void add_run_options(CLI::App& run, RunOptions& o);
int run_agent_task(const RunOptions& options, const ModelWrapper& wrap_model = {});

}  // namespace arle::cli
