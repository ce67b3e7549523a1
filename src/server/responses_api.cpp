// POST /v1/responses: OpenAI's Responses API for text. The input (a string
// or a list of messages) and the instructions go through the chat template;
// the output is a reasoning item (when the model thinks) and a message item,
// whole or as the response.* Server-Sent Events. Tools, stored responses
// (previous_response_id) and structured output answer 400.
#include <fmt/format.h>

#include "server/api_fields.h"
#include "server/openai_api.h"

namespace arle::server {
namespace {

// Input items as chat messages. An item is {"role", "content"} (with an
// optional "type": "message"); content is a string or a list of
// input_text / output_text parts.
Json input_messages(const Json& body) {
  Json messages = Json::array();
  if (const Json* instructions = field(body, "instructions")) {
    if (!instructions->is_string()) bad("instructions", "'instructions' must be a string");
    messages.push_back({{"role", "system"}, {"content", *instructions}});
  }
  const Json* input = field(body, "input");
  if (!input) bad("input", "'input' is required");
  if (input->is_string()) {
    messages.push_back({{"role", "user"}, {"content", *input}});
    return messages;
  }
  if (!input->is_array() || input->empty()) bad("input", "'input' must be a string or a non-empty list of messages");
  for (std::size_t i = 0; i < input->size(); ++i) {
    const Json& item = (*input)[i];
    if (!item.is_object()) bad("input", fmt::format("input[{}] must be an object", i));
    const std::string type = item.value("type", "message");
    if (type != "message") {
      bad("input", fmt::format("input[{}] is a '{}' item; only messages are "
                               "supported (no tools yet)",
                               i, type));
    }
    if (!item.contains("role") || !item["role"].is_string()) bad("input", fmt::format("input[{}] needs a 'role'", i));
    const std::string role = item["role"].get<std::string>();
    if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
      bad("input", fmt::format("input[{}].role '{}' is not user, assistant, system or developer", i, role));
    }
    const Json content = item.contains("content") ? item["content"] : Json(nullptr);
    std::string text;
    if (content.is_string()) {
      text = content.get<std::string>();
    } else if (content.is_array()) {
      for (const Json& part : content) {
        const std::string part_type = part.is_object() ? part.value("type", "") : "";
        if ((part_type != "input_text" && part_type != "output_text" && part_type != "text") ||
            !part.contains("text") || !part["text"].is_string()) {
          bad("input", fmt::format("input[{}].content: only input_text and "
                                   "output_text parts are supported",
                                   i));
        }
        text += part["text"].get<std::string>();
      }
    } else {
      bad("input", fmt::format("input[{}].content must be a string or a list of parts", i));
    }
    messages.push_back({{"role", role == "developer" ? "system" : role}, {"content", text}});
  }
  return messages;
}

// What a response echoes of its request, and its ids.
struct ResponseMeta {
  std::string id, message_id, reasoning_id, model;
  std::int64_t created_at = 0;
  Json instructions, max_output_tokens, temperature, top_p;
};

// Where the generated text stands: reasoning and answer so far.
struct ResponseOutput {
  std::string reasoning, text;
  std::int64_t reasoning_tokens = 0;
  std::string status = "in_progress";  // then completed, incomplete or failed
  std::string error;
  engine::Usage usage;
};

Json message_item(const ResponseMeta& m, const std::string& text, const std::string& status) {
  return {
      {"id", m.message_id},
      {"type", "message"},
      {"status", status},
      {"role", "assistant"},
      {"content",
       Json::array(
           {{{"type", "output_text"}, {"text", text}, {"annotations", Json::array()}, {"logprobs", Json::array()}}})}};
}

Json reasoning_item(const ResponseMeta& m, const std::string& text, const std::string& status) {
  return {{"id", m.reasoning_id},
          {"type", "reasoning"},
          {"status", status},
          {"summary", Json::array()},
          {"content", Json::array({{{"type", "reasoning_text"}, {"text", text}}})}};
}

Json response_object(const ResponseMeta& m, const ResponseOutput& out, bool with_output) {
  Json output = Json::array();
  const std::string item_status = out.status == "in_progress" ? "in_progress"
                                  : out.status == "completed" ? "completed"
                                                              : "incomplete";
  if (with_output) {
    if (!out.reasoning.empty()) output.push_back(reasoning_item(m, out.reasoning, item_status));
    output.push_back(message_item(m, out.text, item_status));
  }
  Json r{{"id", m.id},
         {"object", "response"},
         {"created_at", m.created_at},
         {"status", out.status},
         {"error", out.error.empty() ? Json(nullptr) : Json{{"code", "server_error"}, {"message", out.error}}},
         {"incomplete_details", out.status == "incomplete" ? Json{{"reason", "max_output_tokens"}} : Json(nullptr)},
         {"instructions", m.instructions},
         {"max_output_tokens", m.max_output_tokens},
         {"model", m.model},
         {"output", output},
         {"parallel_tool_calls", true},
         {"previous_response_id", nullptr},
         {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
         {"store", false},
         {"temperature", m.temperature},
         {"text", {{"format", {{"type", "text"}}}}},
         {"tool_choice", "auto"},
         {"tools", Json::array()},
         {"top_p", m.top_p},
         {"truncation", "disabled"},
         {"metadata", Json::object()}};
  if (out.status != "in_progress") {
    r["usage"] = {{"input_tokens", out.usage.prompt_tokens},
                  {"input_tokens_details", {{"cached_tokens", out.usage.cached_tokens}}},
                  {"output_tokens", out.usage.completion_tokens},
                  {"output_tokens_details", {{"reasoning_tokens", out.reasoning_tokens}}},
                  {"total_tokens", out.usage.prompt_tokens + out.usage.completion_tokens}};
  }
  return r;
}

std::string final_status(const std::string& finish_reason) {
  if (finish_reason == "length") return "incomplete";
  if (finish_reason == "error" || finish_reason == "abort") return "failed";
  return "completed";
}

// Tokens up to and including the reasoning's end tag (all of them when the
// reasoning never closed), for usage.output_tokens_details.
std::int64_t count_reasoning_tokens(const std::vector<std::int32_t>& ids, std::optional<std::int32_t> end_tag,
                                    bool reasoned) {
  if (!reasoned) return 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (end_tag && ids[i] == *end_tag) return static_cast<std::int64_t>(i) + 1;
  }
  return static_cast<std::int64_t>(ids.size());
}

// The streamed form: lifecycle events around a reasoning item (while the
// model thinks) and a message item, each opened, filled by deltas and closed.
class ResponseEvents {
 public:
  explicit ResponseEvents(ResponseMeta meta) : meta_(std::move(meta)) {}

  std::string start() {
    // One statement per event: the operands of + are not evaluated in order.
    std::string s = event("response.created", {{"response", response_object(meta_, out_, false)}});
    s += event("response.in_progress", {{"response", response_object(meta_, out_, false)}});
    return s;
  }

  std::string reasoning(const std::string& delta) {
    std::string s;
    if (!reasoning_open_) {
      reasoning_open_ = true;
      s += event("response.output_item.added",
                 {{"output_index", next_index_}, {"item", reasoning_item(meta_, "", "in_progress")}});
      s += event("response.content_part.added", {{"item_id", meta_.reasoning_id},
                                                 {"output_index", next_index_},
                                                 {"content_index", 0},
                                                 {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
      reasoning_index_ = next_index_++;
    }
    out_.reasoning += delta;
    s += event(
        "response.reasoning_text.delta",
        {{"item_id", meta_.reasoning_id}, {"output_index", reasoning_index_}, {"content_index", 0}, {"delta", delta}});
    return s;
  }

  std::string text(const std::string& delta) {
    std::string s = close_reasoning("completed");
    s += open_message();
    out_.text += delta;
    s += event("response.output_text.delta", {{"item_id", meta_.message_id},
                                              {"output_index", message_index_},
                                              {"content_index", 0},
                                              {"delta", delta},
                                              {"logprobs", Json::array()}});
    return s;
  }

  // The closing events and the final response.* event.
  std::string finish(const std::string& status, engine::Usage usage, std::int64_t reasoning_tokens,
                     const std::string& error) {
    out_.status = status;
    out_.usage = usage;
    out_.reasoning_tokens = reasoning_tokens;
    out_.error = error;
    const std::string item_status = status == "completed" ? "completed" : "incomplete";
    std::string s = close_reasoning(item_status);
    s += open_message();
    const Json part{
        {"type", "output_text"}, {"text", out_.text}, {"annotations", Json::array()}, {"logprobs", Json::array()}};
    s += event("response.output_text.done", {{"item_id", meta_.message_id},
                                             {"output_index", message_index_},
                                             {"content_index", 0},
                                             {"text", out_.text},
                                             {"logprobs", Json::array()}});
    s += event("response.content_part.done",
               {{"item_id", meta_.message_id}, {"output_index", message_index_}, {"content_index", 0}, {"part", part}});
    s += event("response.output_item.done",
               {{"output_index", message_index_}, {"item", message_item(meta_, out_.text, item_status)}});
    const char* type = status == "completed"    ? "response.completed"
                       : status == "incomplete" ? "response.incomplete"
                                                : "response.failed";
    s += event(type, {{"response", response_object(meta_, out_, true)}});
    return s;
  }

 private:
  std::string event(const char* type, Json data) {
    Json e{{"type", type}, {"sequence_number", sequence_++}};
    for (auto& [k, v] : data.items()) e[k] = v;
    return fmt::format("event: {}\n", type) + sse(e);
  }

  std::string close_reasoning(const std::string& status) {
    if (!reasoning_open_ || reasoning_closed_) return {};
    reasoning_closed_ = true;
    const Json part{{"type", "reasoning_text"}, {"text", out_.reasoning}};
    std::string s = event("response.reasoning_text.done", {{"item_id", meta_.reasoning_id},
                                                           {"output_index", reasoning_index_},
                                                           {"content_index", 0},
                                                           {"text", out_.reasoning}});
    s += event(
        "response.content_part.done",
        {{"item_id", meta_.reasoning_id}, {"output_index", reasoning_index_}, {"content_index", 0}, {"part", part}});
    s += event("response.output_item.done",
               {{"output_index", reasoning_index_}, {"item", reasoning_item(meta_, out_.reasoning, status)}});
    return s;
  }

  std::string open_message() {
    if (message_open_) return {};
    message_open_ = true;
    message_index_ = next_index_++;
    std::string s = event("response.output_item.added",
                          {{"output_index", message_index_}, {"item", message_item(meta_, "", "in_progress")}});
    s +=
        event("response.content_part.added",
              {{"item_id", meta_.message_id},
               {"output_index", message_index_},
               {"content_index", 0},
               {"part",
                {{"type", "output_text"}, {"text", ""}, {"annotations", Json::array()}, {"logprobs", Json::array()}}}});
    return s;
  }

  ResponseMeta meta_;
  ResponseOutput out_;
  std::int64_t sequence_ = 0;
  int next_index_ = 0, reasoning_index_ = 0, message_index_ = 0;
  bool reasoning_open_ = false, reasoning_closed_ = false, message_open_ = false;
};

}  // namespace

Reply OpenAiApi::responses(const HttpRequest& request) {
  Json body = parse_body(request);
  check_model(body);
  if (const Json* tools = field(body, "tools"); tools && !(tools->is_array() && tools->empty())) {
    bad("tools",
        "tools are not supported on /v1/responses yet; use "
        "/v1/chat/completions");
  }
  if (field(body, "previous_response_id")) {
    bad("previous_response_id", "responses are not stored; send the whole conversation as 'input'");
  }
  if (boolean(body, "background", false)) bad("background", "background responses are not supported");
  if (const Json* text = field(body, "text"); text && text->is_object() && text->contains("format") &&
                                              (*text)["format"].is_object() &&
                                              (*text)["format"].value("type", "text") != "text") {
    bad("text.format",
        "structured output needs constrained decoding, which "
        "ARLE does not have yet");
  }
  const Json messages = input_messages(body);
  const std::string rendered = render_chat(&messages, Json::array(), body);
  std::vector<std::int32_t> prompt_ids = tokenizer_.encode(rendered, /*add_special_tokens=*/false);
  const std::int64_t room = config_.max_model_len - static_cast<std::int64_t>(prompt_ids.size());
  if (room <= 0) {
    bad("input",
        fmt::format("the input has {} tokens; the model's length is {}", prompt_ids.size(), config_.max_model_len));
  }
  const Json* max_output = field(body, "max_output_tokens");
  const std::int64_t max_tokens = integer(body, "max_output_tokens", room, 1, config_.max_model_len);
  if (max_tokens > room) {
    bad("max_output_tokens", fmt::format("the input ({} tokens) plus max_output_tokens ({}) exceeds "
                                         "the model's length {}",
                                         prompt_ids.size(), max_tokens, config_.max_model_len));
  }
  Json fields = body;
  fields.erase("n");     // one output per response
  fields.erase("stop");  // not a Responses parameter
  engine::Request r = request_fields(fields, max_tokens);
  r.snapshot_at = history_tokens(&messages, Json::array(), body, prompt_ids);
  r.prompt_ids = std::move(prompt_ids);
  engine::validate_sampling_params(r.sampling, config_.vocab_size);

  text::OutputParserOptions parse;
  parse.reasoning = template_reasons_;
  parse.starts_in_reasoning = text::prompt_opens_reasoning(rendered);
  ResponseMeta meta;
  meta.id = new_id("resp");
  meta.message_id = new_id("msg");
  meta.reasoning_id = new_id("rs");
  meta.model = config_.served_model_name;
  meta.created_at = created_;
  meta.instructions = body.contains("instructions") ? body["instructions"] : Json(nullptr);
  meta.max_output_tokens = max_output ? *max_output : Json(nullptr);
  meta.temperature = r.sampling.temperature;
  meta.top_p = r.sampling.top_p;
  const std::optional<std::int32_t> think_end = tokenizer_.token_to_id("</think>");

  std::vector<engine::Request> one;
  one.push_back(std::move(r));
  auto handles = submit_all(std::move(one));

  if (!boolean(body, "stream", false)) {
    Reply reply;
    reply.pending = gather(std::move(handles), 1, [=](const std::vector<engine::RequestResult>& results) {
      const engine::Completion& c = results[0].samples[0];
      if (!c.error.empty()) throw ApiError{500, c.error, "", "server_error"};
      text::OutputParser parser(parse);
      text::ParsedOutput parsed = parser.feed(c.text);
      parsed.append(parser.finish());
      ResponseOutput out;
      out.reasoning = parsed.reasoning;
      out.text = parsed.content;
      out.status = final_status(c.finish_reason);
      out.usage = results[0].usage;
      out.reasoning_tokens = count_reasoning_tokens(c.token_ids, think_end, !parsed.reasoning.empty());
      return json_response(response_object(meta, out, true));
    });
    return reply;
  }

  struct State {
    ResponseEvents events;
    text::OutputParser parser;
    std::vector<std::int32_t> token_ids;
    bool started = false, reasoned = false;
    std::string finish_reason, error;
    engine::Usage usage;
  };
  auto state =
      std::make_shared<State>(State{ResponseEvents(meta), text::OutputParser(parse), {}, false, false, {}, {}, {}});
  PendingReply p;
  p.handles = std::move(handles);
  auto start = [state]() -> std::string {
    if (state->started) return {};
    state->started = true;
    return state->events.start();
  };
  p.on_delta = [state, start](std::size_t, const engine::Delta& d) -> std::string {
    std::string out = start();
    if (d.usage) state->usage = *d.usage;
    if (d.index < 0) return out;
    state->token_ids.insert(state->token_ids.end(), d.token_ids.begin(), d.token_ids.end());
    text::ParsedOutput parsed = state->parser.feed(d.text);
    if (d.finish_reason) parsed.append(state->parser.finish());
    if (!parsed.reasoning.empty()) {
      state->reasoned = true;
      out += state->events.reasoning(parsed.reasoning);
    }
    if (!parsed.content.empty()) out += state->events.text(parsed.content);
    if (d.finish_reason) {
      state->finish_reason = *d.finish_reason;
      state->error = d.error;
    }
    return out;
  };
  p.on_end = [state, start, think_end]() -> std::string {
    const std::string status = final_status(state->finish_reason);
    std::string out = start();
    return out +
           state->events.finish(
               status, state->usage, count_reasoning_tokens(state->token_ids, think_end, state->reasoned),
               status == "failed" ? (state->error.empty() ? "the request was aborted" : state->error) : std::string());
  };
  Reply reply;
  reply.pending = std::move(p);
  return reply;
}

}  // namespace arle::server
