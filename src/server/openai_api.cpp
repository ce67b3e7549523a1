#include "server/openai_api.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "server/api_fields.h"
#include "server/metrics_text.h"
#include "text/token_text.h"
#include "text/unicode.h"

namespace arle::server {

OpenAiApi::OpenAiApi(engine::Engine& engine, const text::Tokenizer& tokenizer, const text::ChatTemplate* chat_template,
                     ApiConfig config)
    : engine_(engine),
      tokenizer_(tokenizer),
      chat_template_(chat_template),
      config_(std::move(config)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count()) {
  if (chat_template_) {
    tool_format_ = text::detect_tool_call_format(chat_template_->source());
    template_reasons_ = text::template_teaches_reasoning(chat_template_->source());
  }
}

HttpResponse OpenAiApi::models(const std::string& id) const {
  Json card{{"id", config_.served_model_name},
            {"object", "model"},
            {"created", created_},
            {"owned_by", "arle"},
            {"max_model_len", config_.max_model_len}};
  if (id.empty()) return json_response({{"object", "list"}, {"data", Json::array({card})}});
  if (id != config_.served_model_name) {
    throw ApiError{404, fmt::format("the model '{}' does not exist", id), "model", "not_found_error"};
  }
  return json_response(card);
}

engine::Request OpenAiApi::request_fields(const Json& body, std::int64_t max_tokens) const {
  engine::Request r;
  r.max_tokens = max_tokens;
  r.min_tokens = integer(body, "min_tokens", 0, 0, r.max_tokens);
  r.n = static_cast<int>(integer(body, "n", 1, 1, 64));
  r.stop = stop_strings(body);
  r.ignore_eos = boolean(body, "ignore_eos", false);
  r.eos_token_ids = config_.eos_token_ids;
  r.cache_namespace = config_.cache_namespace;
  r.sampling = sampling_fields(body);
  return r;
}

void OpenAiApi::check_model(const Json& body) const {
  if (const Json* model = field(body, "model")) {
    if (!model->is_string() || model->get<std::string>() != config_.served_model_name) {
      throw ApiError{404, fmt::format("the model '{}' does not exist", model->dump()), "model", "not_found_error"};
    }
  }
}

HttpResponse OpenAiApi::tokenizer_info() const {
  auto token = [&](std::optional<std::int32_t> id) -> Json {
    if (!id) return nullptr;
    auto text = tokenizer_.id_to_token(*id);
    return text ? Json(*text) : Json(nullptr);
  };
  return json_response({{"tokenizer_class", "arle"},
                        {"bos_token", token(tokenizer_.bos_id())},
                        {"eos_token", token(tokenizer_.eos_id())},
                        {"vocab_size", tokenizer_.vocab_size()},
                        {"model_vocab_size", config_.vocab_size},
                        {"max_model_len", config_.max_model_len},
                        {"chat_template", chat_template_ ? Json(chat_template_->source()) : Json(nullptr)}});
}

Reply OpenAiApi::handle(const HttpRequest& request) {
  Reply reply;
  try {
    const std::string& p = request.path;
    const bool authenticated_route = p.rfind("/v1/", 0) == 0 || p == "/tokenize" || p == "/detokenize";
    if (!config_.api_key.empty() && authenticated_route) {
      auto it = request.headers.find("authorization");
      if (it == request.headers.end() || it->second != "Bearer " + config_.api_key) {
        throw ApiError{401, "invalid or missing API key", "", "authentication_error"};
      }
    }
    auto expect = [&](const char* method) {
      if (request.method != method) {
        throw ApiError{405, fmt::format("{} does not accept {}", p, request.method), "", "invalid_request_error"};
      }
    };
    if (p == "/health") {
      expect("GET");
      reply.response = json_response(Json::object());
    } else if (p == "/metrics") {
      expect("GET");
      reply.response.content_type = "text/plain; version=0.0.4";
      reply.response.body = prometheus_text(engine_.stats(), config_.served_model_name);
    } else if (p == "/tokenizer_info") {
      expect("GET");
      reply.response = tokenizer_info();
    } else if (p == "/v1/models") {
      expect("GET");
      reply.response = models("");
    } else if (p.rfind("/v1/models/", 0) == 0) {
      expect("GET");
      reply.response = models(p.substr(11));
    } else if (p == "/v1/chat/completions") {
      expect("POST");
      return chat_completions(request);
    } else if (p == "/v1/responses") {
      expect("POST");
      return responses(request);
    } else if (p == "/v1/completions") {
      expect("POST");
      return completions(request);
    } else if (p == "/tokenize") {
      expect("POST");
      return tokenize(request);
    } else if (p == "/detokenize") {
      expect("POST");
      return detokenize(request);
    } else {
      throw ApiError{404, fmt::format("no route {} {}", request.method, p), "", "not_found_error"};
    }
  } catch (const ApiError& e) {
    reply.response = error_json(e);
  } catch (const Error& e) {
    reply.response = error_json(ApiError{e.code() == ErrorCode::kInvalidArgument ? 400 : 500, e.what(), ""});
  }
  return reply;
}

Reply OpenAiApi::tokenize(const HttpRequest& request) {
  Json body = parse_body(request);
  const Json* prompt = field(body, "prompt");
  if (!prompt || !prompt->is_string()) bad("prompt", "'prompt' must be a string");
  std::vector<std::int32_t> ids =
      tokenizer_.encode(prompt->get<std::string>(), boolean(body, "add_special_tokens", true));
  Reply r;
  r.response = json_response({{"tokens", ids}, {"count", ids.size()}, {"max_model_len", config_.max_model_len}});
  return r;
}

Reply OpenAiApi::detokenize(const HttpRequest& request) {
  Json body = parse_body(request);
  const Json* tokens = field(body, "tokens");
  if (!tokens || !tokens->is_array()) bad("tokens", "'tokens' must be a list of token ids");
  std::vector<std::int32_t> ids;
  for (const Json& t : *tokens) {
    if (!t.is_number_integer() || t.get<std::int64_t>() < 0 ||
        t.get<std::int64_t>() >= static_cast<std::int64_t>(tokenizer_.vocab_size())) {
      bad("tokens", fmt::format("{} is not a token id of this model", t.dump()));
    }
    ids.push_back(t.get<std::int32_t>());
  }
  Reply r;
  r.response = json_response({{"prompt", text::utf8_lossy(tokenizer_.decode(ids, false))}});
  return r;
}

namespace {

// Legacy completions logprobs: tokens, token_logprobs, top_logprobs,
// text_offset.
struct LegacyLogprobs {
  Json tokens = Json::array(), token_logprobs = Json::array(), top_logprobs = Json::array(),
       text_offset = Json::array();
  std::int64_t offset = 0;
  void add(const text::Tokenizer& tok, std::optional<std::int32_t> previous, std::int32_t id,
           const engine::TokenLogprob* lp) {
    const std::string piece = text::token_text(tok, previous, id);
    tokens.push_back(piece);
    token_logprobs.push_back(lp ? Json(lp->logprob) : Json(nullptr));
    Json top = Json::object();
    if (lp) {
      for (const auto& alt : lp->top) top[text::token_text(tok, previous, alt.token)] = alt.logprob;
    }
    top_logprobs.push_back(lp ? top : Json(nullptr));
    text_offset.push_back(offset);
    offset += static_cast<std::int64_t>(piece.size());
  }
  Json json() const {
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top_logprobs},
            {"text_offset", text_offset}};
  }
};

}  // namespace

Reply OpenAiApi::completions(const HttpRequest& request) {
  Json body = parse_body(request);
  check_model(body);
  for (const char* unsupported : {"response_format", "suffix", "best_of"}) {
    if (field(body, unsupported) && !(std::string(unsupported) == "best_of" && body["best_of"] == 1)) {
      bad(unsupported, fmt::format("'{}' is not supported yet", unsupported));
    }
  }
  // prompt: a string, a list of strings, a list of ids, or a list of id lists.
  std::vector<std::vector<std::int32_t>> prompts;
  const Json* prompt = field(body, "prompt");
  if (!prompt) bad("prompt", "'prompt' is required");
  auto ids_of = [&](const Json& list) {
    std::vector<std::int32_t> ids;
    for (const Json& t : list) {
      if (!t.is_number_integer() || t.get<std::int64_t>() < 0 || t.get<std::int64_t>() >= config_.vocab_size) {
        bad("prompt", fmt::format("{} is not a token id of this model (vocabulary {})", t.dump(), config_.vocab_size));
      }
      ids.push_back(t.get<std::int32_t>());
    }
    return ids;
  };
  if (prompt->is_string()) {
    prompts.push_back(tokenizer_.encode(prompt->get<std::string>(), true));
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_string()) {
    for (const Json& p : *prompt) {
      if (!p.is_string()) bad("prompt", "a list prompt must hold only strings");
      prompts.push_back(tokenizer_.encode(p.get<std::string>(), true));
    }
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_array()) {
    for (const Json& p : *prompt) {
      if (!p.is_array()) bad("prompt", "a list of token lists must hold only lists");
      prompts.push_back(ids_of(p));
    }
  } else if (prompt->is_array()) {
    prompts.push_back(ids_of(*prompt));
  } else {
    bad("prompt",
        "'prompt' must be a string, a list of strings, token ids or "
        "lists of token ids");
  }
  if (prompts.size() > 256) bad("prompt", "at most 256 prompts per request");

  engine::Request base = request_fields(body, integer(body, "max_tokens", 16, 0, config_.max_model_len));
  engine::SamplingParams& s = base.sampling;
  const Json* logprobs = field(body, "logprobs");
  if (logprobs) s.logprobs = static_cast<int>(integer(body, "logprobs", 0, 0, engine::kMaxLogprobs));
  const bool echo = boolean(body, "echo", false);
  base.prompt_logprobs = echo && logprobs;
  const bool stream = boolean(body, "stream", false);
  const bool include_usage = stream_include_usage(body);
  // Whole-request checks before anything is submitted.
  std::vector<engine::Request> requests;
  for (auto& ids : prompts) {
    if (ids.empty()) bad("prompt", "the prompt is empty");
    if (static_cast<std::int64_t>(ids.size()) + base.max_tokens > config_.max_model_len) {
      bad("max_tokens", fmt::format("the prompt ({} tokens) plus max_tokens ({}) exceeds the "
                                    "model's length {}",
                                    ids.size(), base.max_tokens, config_.max_model_len));
    }
    engine::Request r = base;
    r.prompt_ids = ids;
    engine::validate_sampling_params(r.sampling, config_.vocab_size);
    requests.push_back(std::move(r));
  }

  const std::string id = new_id("cmpl");
  const int n = base.n;
  std::vector<std::shared_ptr<engine::RequestHandle>> handles = submit_all(std::move(requests));
  const text::Tokenizer* tok = &tokenizer_;
  const std::string model = config_.served_model_name;
  const std::int64_t created = created_;
  const bool want_logprobs = logprobs != nullptr;

  if (!stream) {
    Reply r;
    r.pending = gather(std::move(handles), n, [=](const std::vector<engine::RequestResult>& results) {
      Json choices = Json::array();
      engine::Usage total;
      for (std::size_t p = 0; p < results.size(); ++p) {
        const engine::RequestResult& result = results[p];
        for (const auto& sample : result.samples) {
          if (!sample.error.empty()) bad("prompt", sample.error);
        }
        total.prompt_tokens += result.usage.prompt_tokens;
        total.completion_tokens += result.usage.completion_tokens;
        total.cached_tokens += result.usage.cached_tokens;
        for (int k = 0; k < n; ++k) {
          const engine::Completion& c = result.samples[static_cast<std::size_t>(k)];
          std::string text = c.text;
          Json lp = nullptr;
          if (want_logprobs) {
            LegacyLogprobs legacy;
            std::optional<std::int32_t> previous;
            if (echo) {
              for (std::size_t t = 0; t < prompts[p].size(); ++t) {
                const auto& entry = t < result.prompt_logprobs.size() ? result.prompt_logprobs[t] : std::nullopt;
                legacy.add(*tok, previous, prompts[p][t], entry ? &*entry : nullptr);
                previous = prompts[p][t];
              }
            } else {
              previous = prompts[p].back();
            }
            for (std::size_t t = 0; t < c.token_ids.size() && t < c.logprobs.size(); ++t) {
              legacy.add(*tok, previous, c.token_ids[t], &c.logprobs[t]);
              previous = c.token_ids[t];
            }
            lp = legacy.json();
          }
          if (echo) text = tok->decode(prompts[p], true) + text;
          choices.push_back({{"index", static_cast<int>(p) * n + k},
                             {"text", text::utf8_lossy(text)},
                             {"logprobs", lp},
                             {"finish_reason", c.finish_reason}});
        }
      }
      return json_response({{"id", id},
                            {"object", "text_completion"},
                            {"created", created},
                            {"model", model},
                            {"choices", choices},
                            {"usage", usage_json(total)}});
    });
    return r;
  }

  // Streaming: one chunk per delta (with its logprobs when asked); usage (if
  // asked) and [DONE] at the end. Echo is not streamed.
  struct Choice {
    std::optional<std::int32_t> previous;
    std::int64_t text_offset = 0;
  };
  struct StreamState {
    engine::Usage usage;
    std::vector<Choice> choices;
  };
  auto state = std::make_shared<StreamState>();
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    for (int k = 0; k < n; ++k) state->choices.push_back({prompts[p].back(), 0});
  }
  Reply reply;
  PendingReply sr;
  sr.handles = std::move(handles);
  sr.on_delta = [state, id, model, created, n, tok, want_logprobs](std::size_t p,
                                                                   const engine::Delta& d) -> std::string {
    if (d.usage) {
      state->usage.prompt_tokens += d.usage->prompt_tokens;
      state->usage.completion_tokens += d.usage->completion_tokens;
      state->usage.cached_tokens += d.usage->cached_tokens;
      return {};
    }
    if (d.index < 0) return {};
    const int index = static_cast<int>(p) * n + d.index;
    Json lp = nullptr;
    if (want_logprobs && !d.token_ids.empty()) {
      Choice& c = state->choices[static_cast<std::size_t>(index)];
      LegacyLogprobs legacy;
      legacy.offset = c.text_offset;
      for (std::size_t t = 0; t < d.token_ids.size() && t < d.logprobs.size(); ++t) {
        legacy.add(*tok, c.previous, d.token_ids[t], &d.logprobs[t]);
        c.previous = d.token_ids[t];
      }
      c.text_offset = legacy.offset;
      lp = legacy.json();
    }
    Json chunk{
        {"id", id},
        {"object", "text_completion"},
        {"created", created},
        {"model", model},
        {"choices", Json::array({{{"index", index},
                                  {"text", text::utf8_lossy(d.text)},
                                  {"logprobs", lp},
                                  {"finish_reason", d.finish_reason ? Json(*d.finish_reason) : Json(nullptr)}}})}};
    if (!d.error.empty()) chunk["error"] = {{"message", d.error}, {"type", "invalid_request_error"}};
    return sse(chunk);
  };
  sr.on_end = [state, id, model, created, include_usage]() -> std::string {
    std::string out;
    if (include_usage) {
      Json chunk{{"id", id},       {"object", "text_completion"}, {"created", created},
                 {"model", model}, {"choices", Json::array()},    {"usage", usage_json(state->usage)}};
      out += sse(chunk);
    }
    return out + "data: [DONE]\n\n";
  };
  reply.pending = std::move(sr);
  return reply;
}

std::vector<std::shared_ptr<engine::RequestHandle>> OpenAiApi::submit_all(std::vector<engine::Request> requests) {
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  for (engine::Request& r : requests) {
    auto handle = engine_.try_submit(std::move(r));
    if (!handle) {
      // All or nothing: withdraw what this request already queued.
      for (auto& h : handles) h->cancel();
      throw ApiError{503,
                     "the server is at capacity (its queue of waiting requests "
                     "is full); retry later",
                     "", "server_error"};
    }
    handles.push_back(std::move(handle));
  }
  return handles;
}

}  // namespace arle::server
