#pragma once
// One model turn of the agent: OpenAI-style messages (and tool schemas) in,
// the assistant's reply out, streamed as it is generated. Two backends: the
// engine in this process (local_chat_backend.h) and any OpenAI-compatible
// server (remote_chat_backend.h); the agent loop cannot tell them apart.

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/output_parser.h"

namespace arle::agent {

// Sampling for every turn; unset values come from the model's
// generation_config.json (local) or the server's defaults (remote).
struct GenerationSettings {
  std::optional<double> temperature, top_p;
  std::optional<std::int64_t> top_k;
  std::optional<std::uint64_t> seed;
  std::int64_t max_tokens = 0;                                                // 0: as many as the context has room for
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();  // {"enable_thinking": false}
};

struct TurnUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;  // prompt tokens the prefix cache served
  void add(const TurnUsage& other) {
    prompt_tokens += other.prompt_tokens;
    completion_tokens += other.completion_tokens;
    cached_tokens += other.cached_tokens;
  }
};

struct TurnOutput {
  std::string content;
  std::string reasoning;
  std::vector<text::ToolCall> tool_calls;
  std::vector<std::string> parse_errors;  // malformed tool calls
  std::string finish_reason;              // stop, length, tool_calls, abort (cancelled), error
  std::string error;                      // with finish_reason "error"
  TurnUsage usage;
  double seconds = 0;
  double first_token_seconds = 0;  // time to the first streamed text
};

// Streamed text as the parser releases it.
struct TurnSink {
  std::function<void(std::string_view)> reasoning;
  std::function<void(std::string_view)> content;
};

class ChatBackend {
 public:
  virtual ~ChatBackend() = default;
  virtual std::string model_name() const = 0;
  // False when the model cannot call tools (no chat template with a tool-call format).
  virtual bool supports_tools() const = 0;
  // `tools` is a list of OpenAI function tools (empty: none). Errors of the
  // model or server come back as finish_reason "error", not as exceptions.
  virtual TurnOutput complete(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                              const GenerationSettings& settings, const TurnSink& sink,
                              const std::atomic<bool>* cancel) = 0;
  // Backend counters for /stats (the engine's prefix cache, ...).
  virtual nlohmann::ordered_json stats() const { return nlohmann::ordered_json::object(); }
};

}  // namespace arle::agent
