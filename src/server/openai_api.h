#pragma once
// The OpenAI-compatible API over an Engine: routes, request validation
// (OpenAI error objects naming the parameter), and the JSON / Server-Sent
// Event shapes of the responses. No sockets here: see http_server.h.

#include <memory>
#include <string>

#include "engine/engine.h"
#include "server/api_fields.h"
#include "server/http_types.h"
#include "text/chat_template.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"

namespace arle::server {

struct ApiConfig {
  std::string served_model_name;
  std::string api_key;  // empty: no authentication
  std::int64_t max_model_len = 0;
  std::int64_t vocab_size = 0;
  std::string cache_namespace;  // model + tokenizer
  std::vector<std::int32_t> eos_token_ids;
  // Hybrid models with state snapshots on: tell the engine where each chat
  // prompt's history ends (engine::Request::snapshot_at), the part the next
  // turn shares.
  bool history_snapshots = false;
};

class OpenAiApi {
 public:
  // `chat_template` may be null: chat requests then get a 400.
  OpenAiApi(engine::Engine& engine, const text::Tokenizer& tokenizer, const text::ChatTemplate* chat_template,
            ApiConfig config);
  Reply handle(const HttpRequest& request);

 private:
  Reply completions(const HttpRequest& request);
  Reply chat_completions(const HttpRequest& request);  // chat_completions.cpp
  Reply responses(const HttpRequest& request);         // responses_api.cpp
  // OpenAI chat messages (and tools, and the body's chat_template_kwargs)
  // through the chat template; 400s name "messages" (chat_completions.cpp).
  std::string render_chat(const Json* messages, const Json& tools, const Json& body,
                          bool generation_prompt = true) const;
  // With history_snapshots: the tokens `prompt_ids` shares with the
  // conversation rendered without its generation prompt (the part the next
  // turn starts with; a template may render the current assistant turn's
  // opening differently once it is history); else 0.
  std::int64_t history_tokens(const Json* messages, const Json& tools, const Json& body,
                              const std::vector<std::int32_t>& prompt_ids) const;
  Reply tokenize(const HttpRequest& request);
  Reply detokenize(const HttpRequest& request);
  HttpResponse models(const std::string& id) const;
  HttpResponse tokenizer_info() const;
  // The fields both generation endpoints share: max_tokens as given,
  // min_tokens, n, stop, ignore_eos, sampling, EOS ids and cache namespace.
  engine::Request request_fields(const Json& body, std::int64_t max_tokens) const;
  // Queues every request, or none and a 503 when the engine's queue is full.
  std::vector<std::shared_ptr<engine::RequestHandle>> submit_all(std::vector<engine::Request> requests);
  // 404 unless the body's "model" (when given) is the served one.
  void check_model(const Json& body) const;

  engine::Engine& engine_;
  const text::Tokenizer& tokenizer_;
  const text::ChatTemplate* chat_template_;
  text::ToolCallFormat tool_format_ = text::ToolCallFormat::kNone;
  bool template_reasons_ = false;  // the template knows <think> blocks
  ApiConfig config_;
  std::int64_t created_;
};

}  // namespace arle::server
