#pragma once
// What the HTTP transport and the API handlers exchange. The transport
// (http_server.cpp, the only file that includes Boost.Beast) parses requests
// into HttpRequest and writes back a whole HttpResponse, or waits for the
// engine: a stream of Server-Sent Events produced from deltas as they arrive,
// or a whole response built once the requests end.

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

// An answer the engine still has to produce. The transport never blocks on
// it: it waits (asynchronously) on the handles and hands every delta to
// on_delta (index = which handle). As a stream (`finish` empty), it writes
// what on_delta returns as Server-Sent Event chunks and, after the last
// handle ends, on_end(). As a whole response (`finish` set), on_delta only
// gathers state and finish() builds the response once every handle ended.
// If the client goes away mid-stream, the transport cancels every handle.
struct PendingReply {
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  std::function<std::string(std::size_t index, const engine::Delta& delta)> on_delta;
  std::function<std::string()> on_end;
  std::function<HttpResponse()> finish;
};

struct Reply {
  HttpResponse response;              // used when nothing is pending
  std::optional<PendingReply> pending;
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
