#pragma once
// A small blocking HTTP/1.1 client for `arle eval --base-url` and the
// agent's --base-url (Boost.Beast, kept to http_client.cpp for compile
// time): one connection a request, a deadline on the whole exchange, and
// retries with exponential backoff for what a busy server answers (429, 503)
// or a dropped connection, as lm-evaluation-harness's API models do; and a
// streamed POST for server-sent events. http:// only.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace arle::net {

struct HttpReply {
  int status = 0;
  std::string body;
};

struct HttpTarget {
  std::string host, port = "80", path;  // path: "" or "/v1" (no trailing slash)
};
// Throws kInvalidArgument for what is not http://host[:port][/path].
HttpTarget parse_http_url(const std::string& url);

struct RetryPolicy {
  int attempts = 5;              // tries in all
  double first_backoff = 0.5;    // seconds, doubling (or the server's Retry-After)
  double timeout_seconds = 600;  // one try, connect to last byte
};

// POSTs a JSON body (GET when body is nullopt) to host:port + path. Returns
// the first reply that is not 429 or 503, or the last one; throws kIo when
// no try got an answer (the message says why: refused, timed out).
HttpReply http_request(const HttpTarget& target, const std::string& path, const std::optional<std::string>& body,
                       const std::string& api_key, const RetryPolicy& policy);

// POSTs a JSON body and hands the response body to `on_body` piece by piece
// as it arrives (server-sent events). `idle_timeout_seconds` bounds each
// wait for the server; `cancel` (may be null) closes the connection. Returns
// the status (0 when cancelled); throws kIo when the server cannot be
// reached or goes silent. One try, no retries.
int http_stream(const HttpTarget& target, const std::string& path, const std::string& body, const std::string& api_key,
                double idle_timeout_seconds, const std::function<void(std::string_view)>& on_body,
                const std::atomic<bool>* cancel);

}  // namespace arle::net
