#include "net/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <thread>

#include "common/error.h"

namespace arle::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// GET, or POST of a JSON body, to the target's path + `path`.
http::request<http::string_body> json_request(const HttpTarget& target, const std::string& path,
                                              const std::optional<std::string>& body, const std::string& api_key,
                                              const char* user_agent) {
  http::request<http::string_body> request(body ? http::verb::post : http::verb::get, target.path + path, 11);
  request.set(http::field::host, target.host);
  request.set(http::field::user_agent, user_agent);
  if (!api_key.empty()) request.set(http::field::authorization, "Bearer " + api_key);
  if (body) {
    request.set(http::field::content_type, "application/json");
    request.body() = *body;
  }
  request.prepare_payload();
  return request;
}

// One request on a fresh connection. Asynchronous operations on one thread,
// because only they honour the stream's deadline.
HttpReply exchange(const HttpTarget& target, const std::string& path, const std::optional<std::string>& body,
                   const std::string& api_key, double timeout_seconds, double& retry_after) {
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  const auto request = json_request(target, path, body, api_key, "arle-eval");
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  beast::error_code failure;
  const auto deadline = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000));
  resolver.async_resolve(target.host, target.port, [&](beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return void(failure = ec);
    stream.expires_after(deadline);
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return void(failure = ec);
      http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
        if (ec) return void(failure = ec);
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { failure = ec; });
      });
    });
  });
  io.run();
  if (failure) throw beast::system_error(failure);
  const auto& response = parser.get();
  retry_after = 0;
  if (auto it = response.find(http::field::retry_after); it != response.end()) {
    try {
      retry_after = std::stod(std::string(it->value()));
    } catch (const std::exception&) {
      retry_after = 0;  // an HTTP date: use our own backoff
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(response.result_int()), response.body()};
}

}  // namespace

int http_stream(const HttpTarget& target, const std::string& path, const std::string& body, const std::string& api_key,
                double idle_timeout_seconds, const std::function<void(std::string_view)>& on_body,
                const std::atomic<bool>* cancel) {
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  auto request = json_request(target, path, body, api_key, "arle-agent");
  request.set(http::field::accept, "text/event-stream");
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  beast::error_code failure;
  bool done = false;
  const auto idle = std::chrono::milliseconds(static_cast<std::int64_t>(idle_timeout_seconds * 1000));
  char chunk[16384];
  std::function<void()> read_more = [&] {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream.expires_after(idle);
    http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
      if (ec == http::error::need_buffer) ec = {};
      const std::size_t got = sizeof chunk - parser.get().body().size;
      if (got > 0) on_body(std::string_view(chunk, got));
      if (ec) return void(failure = ec);
      if (parser.is_done()) return void(done = true);
      read_more();
    });
  };
  resolver.async_resolve(target.host, target.port, [&](beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return void(failure = ec);
    stream.expires_after(idle);
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return void(failure = ec);
      http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
        if (ec) return void(failure = ec);
        stream.expires_after(idle);
        http::async_read_header(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
          if (ec) return void(failure = ec);
          if (parser.is_done()) return void(done = true);
          read_more();
        });
      });
    });
  });
  bool cancelled = false;
  while (!io.stopped()) {
    io.run_for(std::chrono::milliseconds(50));
    if (cancel && cancel->load() && !cancelled) {
      cancelled = true;
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
    }
  }
  if (cancelled) return 0;
  if (failure && !done) {
    throw_error(ErrorCode::kIo, "{}:{}{}{}: {}", target.host, target.port, target.path, path, failure.message());
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return static_cast<int>(parser.get().result_int());
}

HttpTarget parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    throw_error(ErrorCode::kInvalidArgument, "--base-url {}: https is not supported; give an http:// URL", url);
  }
  if (url.rfind(scheme, 0) != 0) {
    throw_error(ErrorCode::kInvalidArgument, "--base-url {}: expected http://HOST[:PORT][/PATH]", url);
  }
  const std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  HttpTarget t;
  t.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!t.path.empty() && t.path.back() == '/') t.path.pop_back();
  const std::size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';  // [::1]:8000
  if (colon != std::string::npos && (!bracketed || colon > authority.find(']'))) {
    t.host = authority.substr(0, colon);
    t.port = authority.substr(colon + 1);
  } else {
    t.host = authority;
  }
  if (bracketed && t.host.size() >= 2) t.host = t.host.substr(1, t.host.size() - 2);
  if (t.host.empty() || t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos) {
    throw_error(ErrorCode::kInvalidArgument, "--base-url {}: expected http://HOST[:PORT][/PATH]", url);
  }
  return t;
}

HttpReply http_request(const HttpTarget& target, const std::string& path, const std::optional<std::string>& body,
                       const std::string& api_key, const RetryPolicy& policy) {
  std::string last_error;
  std::optional<HttpReply> last;
  double backoff = policy.first_backoff;
  for (int attempt = 1; attempt <= policy.attempts; ++attempt) {
    double retry_after = 0;
    try {
      HttpReply reply = exchange(target, path, body, api_key, policy.timeout_seconds, retry_after);
      if (reply.status != 429 && reply.status != 503) return reply;
      last = std::move(reply);
    } catch (const std::exception& e) {  // refused, reset, timed out
      last_error = e.what();
      last.reset();
    }
    if (attempt == policy.attempts) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(retry_after > 0 ? retry_after : backoff, 60.0)));
    backoff *= 2;
  }
  if (last) return *last;
  throw_error(ErrorCode::kIo, "{}:{}{}{}: no answer after {} tries ({})", target.host, target.port, target.path, path,
              policy.attempts, last_error);
}

}  // namespace arle::net
