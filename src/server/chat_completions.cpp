// POST /v1/chat/completions: messages through the model's chat template,
// output split by the OutputParser into content, reasoning_content and
// tool_calls, non-streamed or as chat.completion.chunk events.
#include <fmt/format.h>

#include <algorithm>

#include "server/api_fields.h"
#include "server/openai_api.h"
#include "text/token_text.h"
#include "text/unicode.h"

namespace arle::server {
namespace {

// OpenAI content: a string, or a list of {"type": "text", "text": ...} parts.
Json message_content(const Json& content, std::size_t index) {
  if (content.is_null() || content.is_string()) return content;
  if (!content.is_array())
    bad("messages", fmt::format("messages[{}].content must be a string or a list of parts", index));
  std::string text;
  for (const Json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      bad("messages", fmt::format("messages[{}].content: only text parts are supported", index));
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

Json normalized_messages(const Json* messages) {
  if (!messages || !messages->is_array() || messages->empty()) bad("messages", "'messages' must be a non-empty list");
  Json out = Json::array();
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      bad("messages", fmt::format("messages[{}] needs a string 'role'", i));
    }
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
      bad("messages", fmt::format("messages[{}].role '{}' is not system, "
                                  "developer, user, assistant or tool",
                                  i, role));
    }
    Json copy = m;
    copy["role"] = role;
    copy["content"] = message_content(m.contains("content") ? m["content"] : Json(nullptr), i);
    if (copy["content"].is_null() && role != "assistant")
      bad("messages", fmt::format("messages[{}] has no content", i));
    if (copy["content"].is_null()) copy["content"] = "";
    // Templates expect tool-call arguments as objects; OpenAI sends strings.
    if (copy.contains("tool_calls") && copy["tool_calls"].is_array()) {
      for (Json& call : copy["tool_calls"]) {
        if (call.contains("function") && call["function"].contains("arguments") &&
            call["function"]["arguments"].is_string()) {
          try {
            call["function"]["arguments"] = Json::parse(call["function"]["arguments"].get<std::string>());
          } catch (const std::exception&) {
            bad("messages", fmt::format("messages[{}].tool_calls: arguments are not JSON", i));
          }
        }
      }
    }
    out.push_back(std::move(copy));
  }
  return out;
}

Json chat_logprobs(const text::Tokenizer& tok, std::optional<std::int32_t> previous,
                   const std::vector<std::int32_t>& ids, const std::vector<engine::TokenLogprob>& lps) {
  Json content = Json::array();
  for (std::size_t i = 0; i < ids.size() && i < lps.size(); ++i) {
    auto entry = [&](std::int32_t id, float logprob) {
      const std::string t = text::token_text(tok, previous, id);
      return Json{{"token", t}, {"logprob", logprob}, {"bytes", std::vector<int>(t.begin(), t.end())}};
    };
    Json e = entry(ids[i], lps[i].logprob);
    Json top = Json::array();
    for (const auto& alt : lps[i].top) top.push_back(entry(alt.token, alt.logprob));
    e["top_logprobs"] = top;
    content.push_back(e);
    previous = ids[i];
  }
  return {{"content", content}};
}

Json tool_calls_json(const std::vector<text::ToolCall>& calls, std::size_t first_index, bool with_index) {
  Json out = Json::array();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    Json c{{"id", new_id("call")},
           {"type", "function"},
           {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
    if (with_index) c["index"] = first_index + i;
    out.push_back(c);
  }
  return out;
}

constexpr const char* kToolCallClose = "</tool_call>";

struct ToolChoice {
  enum Mode { kNone, kAuto, kRequired, kNamed } mode = kAuto;
  std::string name;  // kNamed
};

// tool_choice: "none", "auto", "required" or {"type": "function",
// "function": {"name": ...}} naming one of `tools`. Without tools, "auto".
ToolChoice read_tool_choice(const Json& body, const Json& tools) {
  const Json* choice = field(body, "tool_choice");
  if (!choice) return {tools.empty() ? ToolChoice::kNone : ToolChoice::kAuto, {}};
  if (choice->is_string()) {
    if (*choice == "none") return {ToolChoice::kNone, {}};
    if (*choice == "auto") return {tools.empty() ? ToolChoice::kNone : ToolChoice::kAuto, {}};
    if (*choice == "required") {
      if (tools.empty()) bad("tool_choice", "tool_choice 'required' needs 'tools'");
      return {ToolChoice::kRequired, {}};
    }
    bad("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or a named function");
  }
  if (!choice->is_object() || choice->value("type", "") != "function" || !choice->contains("function") ||
      !(*choice)["function"].is_object() || !(*choice)["function"].contains("name") ||
      !(*choice)["function"]["name"].is_string()) {
    bad("tool_choice",
        "a named tool_choice is {\"type\": \"function\", "
        "\"function\": {\"name\": ...}}");
  }
  const std::string name = (*choice)["function"]["name"].get<std::string>();
  for (const Json& tool : tools) {
    if (tool.is_object() && tool.contains("function") && tool["function"].is_object() &&
        tool["function"].value("name", "") == name) {
      return {ToolChoice::kNamed, name};
    }
  }
  bad("tool_choice", fmt::format("tool_choice names '{}', which is not in 'tools'", name));
}

// The text that starts the assistant's answer with a tool call: after an
// empty (or closed) reasoning block when the template reasons, the opening
// tag, and for a named choice the name, in the model's own format. Until
// constrained decoding exists the arguments are the model's free choice.
std::string forced_tool_call_opening(const ToolChoice& choice, text::ToolCallFormat format, bool reasons,
                                     const std::string& rendered) {
  if (choice.mode != ToolChoice::kRequired && choice.mode != ToolChoice::kNamed) return {};
  if (format == text::ToolCallFormat::kNone) {
    bad("tool_choice", "this model's chat template has no tool-call format");
  }
  std::string out;
  if (text::prompt_opens_reasoning(rendered)) {
    out += "\n</think>\n\n";
  } else if (reasons && !rendered.ends_with("</think>\n\n")) {
    out += "<think>\n\n</think>\n\n";
  }
  out += "<tool_call>\n";
  if (format == text::ToolCallFormat::kXml) {
    out += "<function=";
    if (choice.mode == ToolChoice::kNamed) out += choice.name + ">\n";
  } else {
    out += "{\"name\": \"";
    if (choice.mode == ToolChoice::kNamed) out += Json(choice.name).dump().substr(1) + ", \"arguments\": ";
  }
  return out;
}

}  // namespace

std::string OpenAiApi::render_chat(const Json* messages, const Json& tools, const Json& body,
                                   bool generation_prompt) const {
  if (!chat_template_) bad("messages", "this model has no chat template; use /v1/completions");
  text::ChatTemplateInput input;
  input.add_generation_prompt = generation_prompt;
  input.messages = normalized_messages(messages);
  if (!tools.empty()) input.tools = tools;
  if (const Json* kwargs = field(body, "chat_template_kwargs")) {
    if (!kwargs->is_object()) bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    input.kwargs = *kwargs;
  }
  try {
    return chat_template_->render(input);
  } catch (const Error& e) {
    bad("messages", fmt::format("the chat template failed: {}", e.what()));
  }
}

std::int64_t OpenAiApi::history_tokens(const Json* messages, const Json& tools, const Json& body,
                                       const std::vector<std::int32_t>& prompt_ids) const {
  if (!config_.history_snapshots) return 0;
  // Only a hint: a template that cannot render without the generation
  // prompt costs the request nothing.
  try {
    const std::vector<std::int32_t> history = tokenizer_.encode(
        render_chat(messages, tools, body, /*generation_prompt=*/false), /*add_special_tokens=*/false);
    const auto shared = std::mismatch(history.begin(), history.end(), prompt_ids.begin(), prompt_ids.end());
    return static_cast<std::int64_t>(shared.first - history.begin());
  } catch (const ApiError&) {  // render_chat's errors
    return 0;
  } catch (const std::exception&) {
    return 0;
  }
}

Reply OpenAiApi::chat_completions(const HttpRequest& request) {
  Json body = parse_body(request);
  check_model(body);
  if (field(body, "response_format")) {
    bad("response_format",
        "'response_format' needs constrained decoding, "
        "which ARLE does not have yet");
  }
  Json tools = Json::array();
  if (const Json* t = field(body, "tools")) {
    if (!t->is_array()) bad("tools", "'tools' must be a list");
    tools = *t;
  }
  const ToolChoice choice = read_tool_choice(body, tools);
  if (choice.mode == ToolChoice::kNone) tools = Json::array();
  std::string rendered = render_chat(field(body, "messages"), tools, body);
  // A required or named tool call is forced by writing its opening into the
  // prompt; the output parser reads it back as the start of the output.
  const bool opens_reasoning = text::prompt_opens_reasoning(rendered);
  const std::string forced = forced_tool_call_opening(choice, tool_format_, template_reasons_, rendered);
  rendered += forced;
  std::vector<std::int32_t> prompt_ids = tokenizer_.encode(rendered, /*add_special_tokens=*/false);
  const std::int64_t room = config_.max_model_len - static_cast<std::int64_t>(prompt_ids.size());
  if (room <= 0)
    bad("messages",
        fmt::format("the prompt has {} tokens; the model's length is {}", prompt_ids.size(), config_.max_model_len));
  const std::int64_t max_tokens =
      integer(body, "max_completion_tokens", integer(body, "max_tokens", room, 0, config_.max_model_len), 0,
              config_.max_model_len);
  if (max_tokens > room) {
    bad("max_tokens", fmt::format("the prompt ({} tokens) plus max_tokens ({}) exceeds the "
                                  "model's length {}",
                                  prompt_ids.size(), max_tokens, config_.max_model_len));
  }
  engine::Request r = request_fields(body, max_tokens);
  r.snapshot_at = history_tokens(field(body, "messages"), tools, body, prompt_ids);
  r.prompt_ids = std::move(prompt_ids);
  // One call only: stop at its end (the parser closes it again below).
  const bool single_call = choice.mode == ToolChoice::kNamed ||
                           (choice.mode == ToolChoice::kRequired && !boolean(body, "parallel_tool_calls", true));
  if (single_call) r.stop.push_back(kToolCallClose);
  const bool want_logprobs = boolean(body, "logprobs", false);
  if (want_logprobs) r.sampling.logprobs = static_cast<int>(integer(body, "top_logprobs", 0, 0, engine::kMaxLogprobs));
  engine::validate_sampling_params(r.sampling, config_.vocab_size);
  const bool stream = boolean(body, "stream", false);
  const bool include_usage = stream_include_usage(body);
  text::OutputParserOptions parse;
  parse.reasoning = template_reasons_;
  parse.starts_in_reasoning = opens_reasoning;
  parse.tool_format = tools.empty() ? text::ToolCallFormat::kNone : tool_format_;
  parse.tools = tools;
  const std::vector<std::int32_t> prompt = r.prompt_ids;
  const int n = r.n;
  const std::string id = new_id("chatcmpl");
  std::vector<engine::Request> one;
  one.push_back(std::move(r));
  auto handles = submit_all(std::move(one));
  const std::string model = config_.served_model_name;
  const std::int64_t created = created_;
  const text::Tokenizer* tok = &tokenizer_;

  if (!stream) {
    Reply reply;
    reply.pending = gather(std::move(handles), n, [=](const std::vector<engine::RequestResult>& results) {
      const engine::RequestResult& result = results[0];
      Json choices = Json::array();
      for (int k = 0; k < n; ++k) {
        const engine::Completion& c = result.samples[static_cast<std::size_t>(k)];
        if (!c.error.empty()) bad("messages", c.error);
        text::OutputParser parser(parse);
        text::ParsedOutput out = parser.feed(forced + c.text);
        if (single_call && c.finish_reason == "stop") out.append(parser.feed(kToolCallClose));
        out.append(parser.finish());
        Json message{{"role", "assistant"},
                     {"content", out.content.empty() && !out.tool_calls.empty() ? Json(nullptr) : Json(out.content)}};
        if (!out.reasoning.empty()) message["reasoning_content"] = out.reasoning;
        if (!out.tool_calls.empty()) message["tool_calls"] = tool_calls_json(out.tool_calls, 0, false);
        std::string finish = c.finish_reason;
        if (!out.tool_calls.empty() && finish == "stop") finish = "tool_calls";
        choices.push_back(
            {{"index", k},
             {"message", message},
             {"logprobs", want_logprobs ? chat_logprobs(*tok, prompt.back(), c.token_ids, c.logprobs) : Json(nullptr)},
             {"finish_reason", finish}});
      }
      return json_response({{"id", id},
                            {"object", "chat.completion"},
                            {"created", created},
                            {"model", model},
                            {"choices", choices},
                            {"usage", usage_json(result.usage)}});
    });
    return reply;
  }

  // Streaming: a role chunk per choice first, then content / reasoning /
  // tool-call deltas as the parser releases them, then finish and usage.
  struct Choice {
    std::unique_ptr<text::OutputParser> parser;
    bool started = false;
    std::size_t tool_calls = 0;
    std::optional<std::int32_t> previous;
  };
  struct State {
    std::vector<Choice> choices;
    engine::Usage usage;
  };
  auto state = std::make_shared<State>();
  for (int k = 0; k < n; ++k) {
    state->choices.push_back({std::make_unique<text::OutputParser>(parse), false, 0, prompt.back()});
    state->choices.back().parser->feed(forced);  // an opening tag: nothing comes out yet
  }
  auto chunk = [id, model, created](int index, Json delta, Json finish, Json logprobs) {
    return sse(
        {{"id", id},
         {"object", "chat.completion.chunk"},
         {"created", created},
         {"model", model},
         {"choices",
          Json::array({{{"index", index}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", finish}}})}});
  };
  PendingReply sr;
  sr.handles = std::move(handles);
  sr.on_delta = [state, chunk, tok, want_logprobs, single_call](std::size_t, const engine::Delta& d) -> std::string {
    if (d.usage) {
      state->usage = *d.usage;
      return {};
    }
    if (d.index < 0) return {};
    Choice& c = state->choices[static_cast<std::size_t>(d.index)];
    std::string out;
    if (!c.started) {
      out += chunk(d.index, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr);
      c.started = true;
    }
    text::ParsedOutput parsed = c.parser->feed(d.text);
    if (single_call && d.finish_reason == "stop") parsed.append(c.parser->feed(kToolCallClose));
    if (d.finish_reason) parsed.append(c.parser->finish());
    Json lp = nullptr;
    if (want_logprobs && !d.token_ids.empty()) {
      lp = chat_logprobs(*tok, c.previous, d.token_ids, d.logprobs);
      c.previous = d.token_ids.back();
    }
    if (!parsed.reasoning.empty()) out += chunk(d.index, {{"reasoning_content", parsed.reasoning}}, nullptr, nullptr);
    if (!parsed.content.empty() || !lp.is_null()) out += chunk(d.index, {{"content", parsed.content}}, nullptr, lp);
    if (!parsed.tool_calls.empty()) {
      out += chunk(d.index, {{"tool_calls", tool_calls_json(parsed.tool_calls, c.tool_calls, true)}}, nullptr, nullptr);
      c.tool_calls += parsed.tool_calls.size();
    }
    if (d.finish_reason) {
      std::string finish = *d.finish_reason;
      if (c.tool_calls > 0 && finish == "stop") finish = "tool_calls";
      out += chunk(d.index, Json::object(), finish, nullptr);
    }
    return out;
  };
  sr.on_end = [state, id, model, created, include_usage]() -> std::string {
    std::string out;
    if (include_usage) {
      out += sse({{"id", id},
                  {"object", "chat.completion.chunk"},
                  {"created", created},
                  {"model", model},
                  {"choices", Json::array()},
                  {"usage", usage_json(state->usage)}});
    }
    return out + "data: [DONE]\n\n";
  };
  Reply reply;
  reply.pending = std::move(sr);
  return reply;
}

}  // namespace arle::server
