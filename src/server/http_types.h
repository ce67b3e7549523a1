#pragma once
// What the HTTP transport and the API handlers exchange. The transport
// (http_server.cpp, the only file that includes Boost.Beast) parses requests
// into HttpRequest and writes back either a whole HttpResponse or a stream:
// Server-Sent Events produced from engine deltas as they arrive.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"

namespace arle::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A streamed answer: the transport waits on the handles, hands every delta
// to on_delta (index = which handle) and writes what it returns as one SSE
// chunk; after the last handle ends it writes on_end(). If the client goes
// away, the transport cancels every handle.
struct StreamingResponse {
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  std::function<std::string(std::size_t index, const engine::Delta& delta)> on_delta;
  std::function<std::string()> on_end;
};

struct Reply {
  HttpResponse response;                      // used when stream is empty
  std::optional<StreamingResponse> stream;
};

using Handler = std::function<Reply(const HttpRequest&)>;

struct HttpServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  int io_threads = 2;
  std::size_t max_body_bytes = 32u << 20;
  std::size_t max_header_bytes = 64u << 10;
  int max_connections = 1024;
  int idle_timeout_seconds = 120;
};

}  // namespace arle::server
