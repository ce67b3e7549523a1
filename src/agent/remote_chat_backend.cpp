#include "agent/remote_chat_backend.h"

#include <fmt/format.h>

#include <chrono>

#include "common/error.h"

namespace arle::agent {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// An OpenAI error body's message, else the body itself (cut).
std::string error_message(int status, const std::string& body) {
  try {
    const Json j = Json::parse(body);
    if (j.contains("error") && j["error"].is_object() && j["error"].contains("message")) {
      return fmt::format("the server answered {}: {}", status, j["error"]["message"].get<std::string>());
    }
  } catch (const std::exception&) {
  }
  return fmt::format("the server answered {}: {}", status, body.substr(0, 300));
}

}  // namespace

void ChatStreamReader::feed(std::string_view bytes) {
  buffer_.append(bytes);
  // Events end with a blank line; a line starting "data:" carries the JSON.
  for (std::size_t end; (end = buffer_.find('\n')) != std::string::npos;) {
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("data:", 0) != 0) continue;
    std::string data = line.substr(5);
    if (!data.empty() && data.front() == ' ') data.erase(0, 1);
    if (data == "[DONE]") continue;
    event(data);
  }
}

void ChatStreamReader::event(const std::string& data) {
  Json chunk;
  try {
    chunk = Json::parse(data);
  } catch (const std::exception&) {
    return;  // not JSON: not ours to read
  }
  if (chunk.contains("error")) {
    out_.finish_reason = "error";
    out_.error =
        chunk["error"].is_object() ? chunk["error"].value("message", chunk["error"].dump()) : chunk["error"].dump();
    return;
  }
  if (chunk.contains("usage") && chunk["usage"].is_object()) {
    const Json& u = chunk["usage"];
    out_.usage.prompt_tokens = u.value("prompt_tokens", std::int64_t{0});
    out_.usage.completion_tokens = u.value("completion_tokens", std::int64_t{0});
    if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
      out_.usage.cached_tokens = u["prompt_tokens_details"].value("cached_tokens", std::int64_t{0});
    }
  }
  if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return;
  const Json& choice = chunk["choices"][0];
  if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
    out_.finish_reason = choice["finish_reason"].get<std::string>();
  }
  if (!choice.contains("delta") || !choice["delta"].is_object()) return;
  const Json& delta = choice["delta"];
  // vLLM says "reasoning_content" (older) or "reasoning".
  for (const char* key : {"reasoning_content", "reasoning"}) {
    if (delta.contains(key) && delta[key].is_string()) {
      const std::string text = delta[key].get<std::string>();
      out_.reasoning += text;
      if (!text.empty() && sink_.reasoning) sink_.reasoning(text);
    }
  }
  if (delta.contains("content") && delta["content"].is_string()) {
    const std::string text = delta["content"].get<std::string>();
    out_.content += text;
    if (!text.empty() && sink_.content) sink_.content(text);
  }
  if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
    for (const Json& call : delta["tool_calls"]) {
      const std::size_t index = call.contains("index") && call["index"].is_number_unsigned()
                                    ? call["index"].get<std::size_t>()
                                    : (calls_.empty() ? 0 : calls_.size() - 1);
      if (index > 1024) continue;
      if (calls_.size() <= index) calls_.resize(index + 1);
      if (!call.contains("function") || !call["function"].is_object()) continue;
      const Json& f = call["function"];
      if (f.contains("name") && f["name"].is_string()) calls_[index].name += f["name"].get<std::string>();
      if (f.contains("arguments") && f["arguments"].is_string())
        calls_[index].arguments += f["arguments"].get<std::string>();
    }
  }
}

void ChatStreamReader::finish() {
  feed("\n");
  for (const PendingCall& c : calls_) {
    if (c.name.empty()) continue;
    out_.tool_calls.push_back({c.name, c.arguments.empty() ? "{}" : c.arguments});
  }
}

RemoteChatBackend::RemoteChatBackend(const std::string& base_url, std::string model, std::string api_key,
                                     double timeout_seconds)
    : target_(net::parse_http_url(base_url)),
      base_url_(base_url),
      model_(std::move(model)),
      api_key_(std::move(api_key)),
      timeout_seconds_(timeout_seconds) {
  if (!model_.empty()) return;
  net::RetryPolicy once;
  once.attempts = 1;
  once.timeout_seconds = 30;
  const net::HttpReply reply = net::http_request(target_, "/models", std::nullopt, api_key_, once);
  if (reply.status != 200)
    throw_error(ErrorCode::kIo, "{}/models: {}", base_url, error_message(reply.status, reply.body));
  try {
    model_ = Json::parse(reply.body).at("data").at(0).at("id").get<std::string>();
  } catch (const std::exception&) {
    throw_error(ErrorCode::kIo, "{}/models lists no model; pass --model", base_url);
  }
}

TurnOutput RemoteChatBackend::complete(const Json& messages, const Json& tools, const GenerationSettings& settings,
                                       const TurnSink& sink, const std::atomic<bool>* cancel) {
  TurnOutput out;
  const auto start = Clock::now();
  Json body{{"model", model_}, {"messages", messages}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  if (!tools.empty()) body["tools"] = tools;
  if (settings.max_tokens > 0) body["max_tokens"] = settings.max_tokens;
  if (settings.temperature) body["temperature"] = *settings.temperature;
  if (settings.top_p) body["top_p"] = *settings.top_p;
  if (settings.top_k) body["top_k"] = *settings.top_k;
  if (settings.seed) body["seed"] = *settings.seed;
  if (!settings.template_kwargs.empty()) body["chat_template_kwargs"] = settings.template_kwargs;
  ++requests_;
  TurnSink timed = sink;
  auto first = [&] {
    if (out.first_token_seconds == 0)
      out.first_token_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  };
  timed.reasoning = [&](std::string_view t) {
    first();
    if (sink.reasoning) sink.reasoning(t);
  };
  timed.content = [&](std::string_view t) {
    first();
    if (sink.content) sink.content(t);
  };
  ChatStreamReader reader(out, timed);
  std::string raw;  // kept for error answers, which are not streamed
  try {
    const std::string request = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    const int status = net::http_stream(
        target_, "/chat/completions", request, api_key_, timeout_seconds_,
        [&](std::string_view bytes) {
          if (raw.size() < (64 << 10)) raw.append(bytes);
          reader.feed(bytes);
        },
        cancel);
    if (status == 0) {
      out.finish_reason = "abort";
    } else if (status != 200) {
      out.finish_reason = "error";
      out.error = error_message(status, raw);
    }
  } catch (const Error& e) {
    out.finish_reason = "error";
    out.error = e.what();
  }
  if (out.finish_reason != "error") reader.finish();
  if (out.finish_reason.empty()) out.finish_reason = "stop";
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

Json RemoteChatBackend::stats() const { return {{"server", base_url_}, {"requests", requests_}}; }

}  // namespace arle::agent
