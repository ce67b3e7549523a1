#include "server/api_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "common/utf8.h"

namespace arle::server {

[[noreturn]] void bad(const std::string& param, const std::string& message) { throw ApiError{400, message, param}; }

HttpResponse json_response(const Json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse error_json(const ApiError& e) {
  Json error{{"message", e.message},
             {"type", e.type},
             {"param", e.param.empty() ? Json(nullptr) : Json(e.param)},
             {"code", e.status}};
  HttpResponse r = json_response({{"error", error}}, e.status);
  if (e.status == 503) r.headers.emplace_back("Retry-After", "1");  // clients back off and retry
  return r;
}

PendingReply gather(std::vector<std::shared_ptr<engine::RequestHandle>> handles, int n,
                    std::function<HttpResponse(const std::vector<engine::RequestResult>&)> build) {
  auto results = std::make_shared<std::vector<engine::RequestResult>>(handles.size());
  for (engine::RequestResult& r : *results) r.samples.resize(static_cast<std::size_t>(std::max(n, 1)));
  PendingReply p;
  p.handles = std::move(handles);
  p.on_delta = [results](std::size_t i, const engine::Delta& d) {
    engine::add_delta((*results)[i], d);
    return std::string();
  };
  p.finish = [results, build = std::move(build)] {
    try {
      return build(*results);
    } catch (const ApiError& e) {
      return error_json(e);
    }
  };
  return p;
}

Json parse_body(const HttpRequest& request) {
  if (find_invalid_utf8(request.body)) bad("", "the request body is not valid UTF-8");
  Json body;
  try {
    body = Json::parse(request.body);
  } catch (const std::exception& e) {
    bad("", fmt::format("the request body is not valid JSON: {}", e.what()));
  }
  if (!body.is_object()) bad("", "the request body must be a JSON object");
  return body;
}

const Json* field(const Json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const Json& body, const char* name, double fallback, double lo, double hi) {
  const Json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number()) bad(name, fmt::format("'{}' must be a number", name));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) bad(name, fmt::format("'{}' = {} is out of range [{}, {}]", name, x, lo, hi));
  return x;
}

std::int64_t integer(const Json& body, const char* name, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
  const Json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer()) bad(name, fmt::format("'{}' must be an integer", name));
  const std::int64_t x = v->get<std::int64_t>();
  if (x < lo || x > hi) bad(name, fmt::format("'{}' = {} is out of range [{}, {}]", name, x, lo, hi));
  return x;
}

bool boolean(const Json& body, const char* name, bool fallback) {
  const Json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(name, fmt::format("'{}' must be true or false", name));
  return v->get<bool>();
}

std::vector<std::string> stop_strings(const Json& body) {
  const Json* v = field(body, "stop");
  if (!v) return {};
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array() || v->size() > 16) bad("stop", "'stop' must be a string or a list of at most 16 strings");
  std::vector<std::string> out;
  for (const Json& s : *v) {
    if (!s.is_string()) bad("stop", "'stop' must hold strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::string new_id(const char* prefix) {
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("{}-{:x}{:06x}", prefix,
                     std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffffull, ++counter);
}

Json usage_json(const engine::Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

bool stream_include_usage(const Json& body) {
  const Json* so = field(body, "stream_options");
  if (!so) return false;
  if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
  return boolean(*so, "include_usage", false);
}

engine::SamplingParams sampling_fields(const Json& body) {
  engine::SamplingParams s;
  s.temperature = number(body, "temperature", 1.0, 0, 2);
  s.top_p = number(body, "top_p", 1.0, 1e-9, 1);
  s.top_k = integer(body, "top_k", 0, -1, 1 << 20);
  s.min_p = number(body, "min_p", 0, 0, 1);
  s.repetition_penalty = number(body, "repetition_penalty", 1.0, 1e-6, 100);
  s.presence_penalty = number(body, "presence_penalty", 0, -2, 2);
  s.frequency_penalty = number(body, "frequency_penalty", 0, -2, 2);
  if (const Json* seed = field(body, "seed")) {
    if (!seed->is_number_integer()) bad("seed", "'seed' must be an integer");
    s.seed = static_cast<std::uint64_t>(seed->get<std::int64_t>());
  }
  if (const Json* bias = field(body, "logit_bias")) {
    if (!bias->is_object()) bad("logit_bias", "'logit_bias' must map token ids to numbers");
    for (const auto& [key, value] : bias->items()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (end == key.c_str() || *end != '\0' || !value.is_number()) {
        bad("logit_bias", "'logit_bias' must map token ids to numbers");
      }
      s.logit_bias[static_cast<std::int32_t>(id)] = value.get<float>();
    }
  }
  return s;
}

std::string sse(const Json& chunk) {
  return "data: " + chunk.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

}  // namespace arle::server
