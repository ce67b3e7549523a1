#pragma once
// Shared pieces of the OpenAI handlers: the error object, the JSON body and
// its typed optional fields (null counts as absent, as in OpenAI's API), ids
// and usage.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/request.h"
#include "engine/sampling_params.h"
#include "server/http_types.h"

namespace arle::server {

using Json = nlohmann::ordered_json;

// An OpenAI error object: {"error": {"message", "type", "param", "code"}}.
struct ApiError {
  int status;
  std::string message;
  std::string param;
  std::string type = "invalid_request_error";
};

[[noreturn]] void bad(const std::string& param, const std::string& message);
HttpResponse json_response(const Json& body, int status = 200);
HttpResponse error_json(const ApiError& e);
// Valid UTF-8 holding a JSON object, else a 400.
Json parse_body(const HttpRequest& request);

const Json* field(const Json& body, const char* name);
double number(const Json& body, const char* name, double fallback, double lo, double hi);
std::int64_t integer(const Json& body, const char* name, std::int64_t fallback, std::int64_t lo, std::int64_t hi);
bool boolean(const Json& body, const char* name, bool fallback);
std::vector<std::string> stop_strings(const Json& body);
// stream_options.include_usage
bool stream_include_usage(const Json& body);
// temperature, top_p, top_k, min_p, the penalties, seed and logit_bias.
engine::SamplingParams sampling_fields(const Json& body);

// A whole response built once every handle has ended, without blocking an
// I/O thread: deltas are gathered into one RequestResult per handle (n
// samples each); `build` turns them into the response, and an ApiError it
// throws becomes the error response.
PendingReply gather(std::vector<std::shared_ptr<engine::RequestHandle>> handles, int n,
                    std::function<HttpResponse(const std::vector<engine::RequestResult>&)> build);

std::string new_id(const char* prefix);
Json usage_json(const engine::Usage& u);
// "data: {json}\n\n"
std::string sse(const Json& chunk);

}  // namespace arle::server
