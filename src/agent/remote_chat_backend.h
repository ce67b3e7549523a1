#pragma once
// The agent's model turns on any OpenAI-compatible server (arle serve, vLLM,
// llama.cpp's server): POST /chat/completions with the tools, streamed
// (server-sent events), reasoning_content and tool-call deltas assembled as
// they come. The server's chat template and parsers do the rendering; its
// prefix cache does the reuse (usage.prompt_tokens_details.cached_tokens).

#include <string>

#include "agent/chat_backend.h"
#include "net/http_client.h"

namespace arle::agent {

class RemoteChatBackend : public ChatBackend {
 public:
  // `model` empty: the first id /models lists. Throws kIo when the server
  // cannot be reached, kInvalidArgument for a bad URL.
  RemoteChatBackend(const std::string& base_url, std::string model, std::string api_key, double timeout_seconds = 600);
  std::string model_name() const override { return model_; }
  bool supports_tools() const override { return true; }
  TurnOutput complete(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                      const GenerationSettings& settings, const TurnSink& sink,
                      const std::atomic<bool>* cancel) override;
  nlohmann::ordered_json stats() const override;

 private:
  net::HttpTarget target_;
  std::string base_url_, model_, api_key_;
  double timeout_seconds_;
  std::int64_t requests_ = 0;
};

// Test seam: one server-sent-events body applied to a turn, as complete() does.
class ChatStreamReader {
 public:
  ChatStreamReader(TurnOutput& out, const TurnSink& sink) : out_(out), sink_(sink) {}
  void feed(std::string_view bytes);  // any chunking
  void finish();                      // assembles the tool calls

 private:
  void event(const std::string& data);
  struct PendingCall {
    std::string name, arguments;
  };
  TurnOutput& out_;
  const TurnSink& sink_;
  std::string buffer_;
  std::vector<PendingCall> calls_;
};

}  // namespace arle::agent
