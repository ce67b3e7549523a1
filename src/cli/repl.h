#pragma once
// `arle` with no subcommand: the interactive agent. libedit line editing with
// history in ~/.arle_history; a line ending in "\" continues on the next, and
// a line of """ opens and closes a multi-line block. The answer streams as it
// is generated (AgentView), tool calls are asked about (--approve ask by
// default), Ctrl-C stops the current generation or tool and keeps the
// session, Ctrl-D leaves. Slash commands: /help lists them.

#include "cli/agent_session.h"

namespace arle::cli {

int run_repl(const AgentCommandOptions& options, const ModelWrapper& wrap_model = {});

}  // namespace arle::cli
