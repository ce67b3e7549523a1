#include "agent/agent.h"

#include <fmt/format.h>

#include <chrono>

#include "common/error.h"

namespace arle::agent {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

Json usage_json(const TurnUsage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"cached_tokens", u.cached_tokens}};
}

Json calls_json(const std::vector<text::ToolCall>& calls) {
  Json out = Json::array();
  for (const text::ToolCall& c : calls) out.push_back({{"name", c.name}, {"arguments", c.arguments}});
  return out;
}

Json turn_json(const TurnRecord& t) {
  Json j{{"turn", t.turn},
         {"content", t.output.content},
         {"reasoning", t.output.reasoning},
         {"tool_calls", calls_json(t.output.tool_calls)},
         {"finish_reason", t.output.finish_reason},
         {"usage", usage_json(t.output.usage)},
         {"seconds", t.output.seconds},
         {"first_token_seconds", t.output.first_token_seconds}};
  if (!t.output.parse_errors.empty()) j["parse_errors"] = t.output.parse_errors;
  if (!t.output.error.empty()) j["error"] = t.output.error;
  return j;
}

Json call_json(const ToolCallRecord& c) {
  return {{"turn", c.turn},
          {"id", c.id},
          {"name", c.name},
          {"arguments", c.arguments},
          {"approved", c.approved},
          {"ok", c.result.ok},
          {"status", c.result.status},
          {"seconds", c.result.seconds},
          {"isolated", c.result.isolated},
          {"output", c.result.content}};
}

// {"type": TYPE, ...body}: one line of a --trace file.
Json trace_record(const char* type, const Json& body) {
  Json j{{"type", type}};
  for (const auto& [key, value] : body.items()) j[key] = value;
  return j;
}

}  // namespace

Approval parse_approval(const std::string& text) {
  if (text == "ask") return Approval::kAsk;
  if (text == "auto") return Approval::kAuto;
  if (text == "never") return Approval::kNever;
  throw_error(ErrorCode::kInvalidArgument, "--approve must be ask, auto or never, not '{}'", text);
}

Json TaskResult::to_json() const {
  Json turns_json = Json::array();
  for (const TurnRecord& t : turns) turns_json.push_back(turn_json(t));
  Json calls = Json::array();
  for (const ToolCallRecord& c : tool_calls) calls.push_back(call_json(c));
  Json j{{"final", final_text},        {"stop_reason", stop_reason}, {"turns", turns_json},
         {"usage", usage_json(usage)}, {"tool_calls", calls},        {"seconds", seconds}};
  if (!error.empty()) j["error"] = error;
  return j;
}

Agent::Agent(ChatBackend& backend, Toolbox* toolbox, AgentConfig config)
    : backend_(backend), toolbox_(toolbox), config_(std::move(config)) {
  if (config_.max_turns < 1) throw_error(ErrorCode::kInvalidArgument, "--max-turns must be at least 1");
}

Json Agent::tool_schemas() const { return toolbox_ ? toolbox_->schemas() : Json::array(); }

void Agent::reset() {
  Json kept = Json::array();
  if (!messages_.empty() && messages_[0].value("role", "") == "system") kept.push_back(messages_[0]);
  messages_ = kept;
  if (toolbox_) toolbox_->reset();
}

void Agent::set_system_prompt(const std::string& text) {
  if (!messages_.empty() && messages_[0].value("role", "") == "system") messages_.erase(messages_.begin());
  if (!text.empty()) messages_.insert(messages_.begin(), Json{{"role", "system"}, {"content", text}});
}

void Agent::load_messages(const Json& messages) {
  if (!messages.is_array()) throw_error(ErrorCode::kInvalidArgument, "a conversation is a JSON list of messages");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string role =
        m.is_object() && m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "";
    if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
      throw_error(ErrorCode::kInvalidArgument, "message {} needs a role of system, user, assistant or tool", i);
    }
    if (m.contains("content") && !m["content"].is_string() && !m["content"].is_null()) {
      throw_error(ErrorCode::kInvalidArgument, "message {}: content must be a string", i);
    }
    if (!m.contains("tool_calls")) continue;
    const Json& calls = m["tool_calls"];
    bool ok = role == "assistant" && calls.is_array();
    for (std::size_t k = 0; ok && k < calls.size(); ++k) {
      const Json& c = calls[k];
      ok = c.is_object() && c.contains("id") && c["id"].is_string() && c.contains("function") &&
           c["function"].is_object() && c["function"].contains("name") && c["function"]["name"].is_string() &&
           c["function"].contains("arguments") &&
           (c["function"]["arguments"].is_string() || c["function"]["arguments"].is_object());
    }
    if (!ok) {
      throw_error(ErrorCode::kInvalidArgument,
                  "message {}: tool_calls must be a list of {{id, function: {{name, arguments}}}} on an assistant "
                  "message",
                  i);
    }
  }
  messages_ = messages;
}

void Agent::run_tool_calls(int turn, const std::vector<text::ToolCall>& calls, const AgentEvents& events,
                           const std::atomic<bool>* cancel, TaskResult& result) {
  // Copied: the tool messages pushed below move the conversation's storage.
  std::vector<std::string> ids;
  for (const Json& call : messages_.back()["tool_calls"]) ids.push_back(call["id"].get<std::string>());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    ToolCallRecord record;
    record.turn = turn;
    record.id = ids[i];
    record.name = calls[i].name;
    record.arguments = calls[i].arguments;
    const bool stopped = cancel && cancel->load();
    if (stopped) {
      record.result.content = "not run: the user stopped the task";
      record.result.status = "not run (stopped)";
    } else {
      switch (config_.approval) {
        case Approval::kAuto:
          record.approved = true;
          break;
        case Approval::kNever:
          record.approved = false;
          break;
        case Approval::kAsk:
          record.approved = events.approve && events.approve(record);
          break;
      }
      if (!record.approved) {
        record.result.content = "not run: the user declined this tool call";
        record.result.status = "declined";
      } else {
        if (events.tool_start) events.tool_start(record);
        record.result = toolbox_->call(record.name, record.arguments, cancel);
      }
    }
    ++stats_.tool_calls;
    messages_.push_back({{"role", "tool"}, {"tool_call_id", record.id}, {"content", record.result.content}});
    if (events.tool_end) events.tool_end(record);
    if (events.trace) events.trace(trace_record("tool_result", call_json(record)));
    result.tool_calls.push_back(std::move(record));
  }
}

TaskResult Agent::send(const std::string& user_text, const AgentEvents& events, const std::atomic<bool>* cancel) {
  TaskResult result;
  const auto start = Clock::now();
  messages_.push_back({{"role", "user"}, {"content", user_text}});
  ++stats_.user_messages;
  if (events.trace) events.trace({{"type", "user"}, {"content", user_text}});
  const Json tools = tool_schemas();
  result.stop_reason = "max_turns";
  for (int turn = 1; turn <= config_.max_turns; ++turn) {
    if (cancel && cancel->load()) {
      result.stop_reason = "cancelled";
      break;
    }
    TurnRecord record;
    record.turn = turn;
    record.output = backend_.complete(messages_, tools, config_.generation, events.stream, cancel);
    const TurnOutput& out = record.output;
    ++stats_.model_turns;
    stats_.usage.add(out.usage);
    stats_.generation_seconds += out.seconds;
    result.usage.add(out.usage);
    if (events.trace) events.trace(trace_record("turn", turn_json(record)));
    if (events.turn_end) events.turn_end(record);
    result.turns.push_back(record);
    if (out.finish_reason == "error") {
      result.stop_reason = "error";
      result.error = out.error;
      break;
    }
    result.final_text = out.content;
    const bool cancelled = out.finish_reason == "abort";
    Json assistant{{"role", "assistant"}, {"content", out.content}};
    if (!out.reasoning.empty()) assistant["reasoning_content"] = out.reasoning;
    // A cancelled turn keeps its text but not its half-made calls.
    const bool has_calls = !out.tool_calls.empty() && !cancelled && toolbox_;
    if (has_calls) {
      Json calls = Json::array();
      for (const text::ToolCall& c : out.tool_calls) {
        calls.push_back({{"id", fmt::format("call_{}", next_call_id_++)},
                         {"type", "function"},
                         {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      }
      assistant["tool_calls"] = calls;
    }
    messages_.push_back(assistant);
    if (cancelled) {
      result.stop_reason = "cancelled";
      break;
    }
    if (has_calls) run_tool_calls(turn, out.tool_calls, events, cancel, result);
    const bool misformed_calls = toolbox_ && !out.parse_errors.empty();
    if (misformed_calls) {
      // The model meant to call a tool and got the form wrong: say so, and
      // let it try again.
      std::string note = "[arle] A tool call in your last message could not be read:";
      for (const std::string& e : out.parse_errors) note += "\n- " + e;
      note += "\nWrite each call as the tool-call format shows, with a JSON object of arguments.";
      messages_.push_back({{"role", "user"}, {"content", note}});
      if (events.trace) events.trace({{"type", "parse_error"}, {"content", note}});
    }
    if (cancel && cancel->load()) {
      result.stop_reason = "cancelled";
      break;
    }
    if (has_calls || misformed_calls) continue;
    result.stop_reason = out.finish_reason == "length" ? "length" : "answer";
    break;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (events.trace) {
    events.trace({{"type", "end"},
                  {"stop_reason", result.stop_reason},
                  {"final", result.final_text},
                  {"usage", usage_json(result.usage)},
                  {"seconds", result.seconds}});
  }
  return result;
}

}  // namespace arle::agent
