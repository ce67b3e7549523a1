#pragma once
// The tool loop: the user's message goes into the conversation, the model
// answers (ChatBackend), its tool calls run (Toolbox, after approval), their
// results go back as "tool" messages, and the model is asked again, until it
// answers without a tool call or the turn limit is reached. Nothing the model
// does wrong ends the loop with an exception: a malformed call, a failing or
// hanging tool come back to the model as text. The conversation is OpenAI
// messages, so it can be saved, loaded, or sent to any server.

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/chat_backend.h"
#include "agent/toolbox.h"

namespace arle::agent {

enum class Approval { kAsk, kAuto, kNever };
// "ask", "auto" or "never"; throws kInvalidArgument otherwise.
Approval parse_approval(const std::string& text);

struct AgentConfig {
  int max_turns = 20;  // model turns for one user message
  Approval approval = Approval::kAuto;
  GenerationSettings generation;
};

struct ToolCallRecord {
  int turn = 0;
  std::string id, name, arguments;
  bool approved = false;
  ToolResult result;
};

struct TurnRecord {
  int turn = 0;
  TurnOutput output;
};

struct TaskResult {
  std::string final_text;  // the last turn's content
  // "answer" (no tool call), "max_turns", "length" (out of tokens),
  // "cancelled" or "error"
  std::string stop_reason;
  std::string error;
  std::vector<TurnRecord> turns;
  std::vector<ToolCallRecord> tool_calls;
  TurnUsage usage;
  double seconds = 0;
  nlohmann::ordered_json to_json() const;  // arle run --json
};

// What the agent tells its user interface as it goes; all optional.
struct AgentEvents {
  TurnSink stream;                                        // reasoning and content as generated
  std::function<void(const TurnRecord&)> turn_end;        // a model turn is complete
  std::function<bool(const ToolCallRecord&)> approve;     // Approval::kAsk: run it?
  std::function<void(const ToolCallRecord&)> tool_start;  // approved, about to run
  std::function<void(const ToolCallRecord&)> tool_end;
  std::function<void(const nlohmann::ordered_json&)> trace;  // one record per event (--trace)
};

// Totals over the session, for /stats.
struct AgentStats {
  std::int64_t user_messages = 0, model_turns = 0, tool_calls = 0;
  TurnUsage usage;
  double generation_seconds = 0;
};

class Agent {
 public:
  // `toolbox` null: no tools (--no-tools, or a model that cannot call them).
  Agent(ChatBackend& backend, Toolbox* toolbox, AgentConfig config);

  TaskResult send(const std::string& user_text, const AgentEvents& events = {},
                  const std::atomic<bool>* cancel = nullptr);

  // Forgets the conversation (the system prompt stays) and restarts python.
  void reset();
  void set_system_prompt(const std::string& text);  // empty: none
  const nlohmann::ordered_json& messages() const { return messages_; }
  // Replaces the conversation; throws kInvalidArgument unless it is a list
  // of messages with known roles.
  void load_messages(const nlohmann::ordered_json& messages);
  bool tools_enabled() const { return toolbox_ != nullptr; }
  const AgentStats& stats() const { return stats_; }
  ChatBackend& backend() { return backend_; }

 private:
  nlohmann::ordered_json tool_schemas() const;
  void run_tool_calls(int turn, const std::vector<text::ToolCall>& calls, const AgentEvents& events,
                      const std::atomic<bool>* cancel, TaskResult& result);

  ChatBackend& backend_;
  Toolbox* toolbox_;
  AgentConfig config_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
  AgentStats stats_;
  std::int64_t next_call_id_ = 1;
};

}  // namespace arle::agent
