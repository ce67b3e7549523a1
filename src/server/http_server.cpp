#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "server/api_fields.h"

namespace arle::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Wakes a streaming session when any of its request handles has news. Shared
// with the engine thread, which may call it after the session has ended.
struct Waker {
  explicit Waker(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  std::atomic<bool> pending{false};
};

}  // namespace

struct HttpServer::Impl {
  HttpServerConfig config;
  Handler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<int> connections{0};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};

  asio::awaitable<void> write_whole(beast::tcp_stream& stream, const HttpResponse& r, unsigned version, bool keep_alive,
                                    bool& ok) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "arle");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
    auto [ec, n] = co_await http::async_write(stream, res, kTuple);
    ok = !ec;
  }

  // Feeds every delta of `p`'s handles to on_delta until all have ended,
  // sleeping on a waker the engine thread pokes. With `sse`, what on_delta
  // returns is written as a chunk; false when a write failed.
  asio::awaitable<bool> pump(beast::tcp_stream& stream, PendingReply& p, bool sse) {
    bool ok = true;
    auto waker = std::make_shared<Waker>(co_await asio::this_coro::executor);
    for (auto& h : p.handles) {
      h->on_ready([waker] {
        waker->pending.store(true);
        asio::post(waker->timer.get_executor(), [waker] { waker->timer.cancel(); });
      });
    }
    std::vector<bool> ended(p.handles.size(), false);
    auto all_ended = [&] { return std::all_of(ended.begin(), ended.end(), [](bool e) { return e; }); };
    while (ok && !all_ended()) {
      bool progressed = false;
      for (std::size_t i = 0; i < p.handles.size() && ok; ++i) {
        bool done = false;
        while (ok) {
          std::optional<engine::Delta> d = p.handles[i]->try_next(done);
          if (!d) break;
          progressed = true;
          const std::string chunk = p.on_delta(i, *d);
          if (!sse || chunk.empty()) continue;
          stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
          const auto body = http::make_chunk(asio::buffer(chunk));
          auto [ec, n] = co_await asio::async_write(stream, body, kTuple);
          ok = !ec;
        }
        if (done) ended[i] = true;
      }
      if (!ok || progressed || all_ended()) continue;
      if (!waker->pending.exchange(false)) {
        waker->timer.expires_at(asio::steady_timer::time_point::max());
        co_await waker->timer.async_wait(kTuple);
        waker->pending.store(false);
      }
    }
    for (auto& h : p.handles) h->on_ready(nullptr);
    // The client went away: stop generating for it.
    if (!ok) {
      for (auto& h : p.handles) h->cancel();
    }
    co_return ok;
  }

  asio::awaitable<bool> write_stream(beast::tcp_stream& stream, PendingReply& p, unsigned version) {
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "arle");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.chunked(true);
    http::response_serializer<http::empty_body> header{res};
    stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
    auto [hec, hn] = co_await http::async_write_header(stream, header, kTuple);
    if (hec) {
      for (auto& h : p.handles) h->cancel();
      co_return false;
    }
    if (!co_await pump(stream, p, /*sse=*/true)) co_return false;
    const std::string tail = p.on_end ? p.on_end() : std::string();
    if (!tail.empty()) {
      const auto body = http::make_chunk(asio::buffer(tail));
      auto [ec, n] = co_await asio::async_write(stream, body, kTuple);
      if (ec) co_return false;
    }
    const auto last = http::make_chunk_last();
    auto [ec, n] = co_await asio::async_write(stream, last, kTuple);
    co_return !ec;
  }

  // After refusing a request mid-body: stop sending, then read and drop what
  // the client is still sending (bounded in time and bytes), so that it sees
  // the response rather than a reset connection.
  asio::awaitable<void> linger(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::seconds(5));
    std::vector<char> sink(64 << 10);
    for (std::size_t total = 0; total < (256u << 20);) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      total += n;
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    const int active = ++connections;
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{connections};
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(config.max_body_bytes);
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        bool ok = false;
        // Named, not a temporary: g++ 12 destroys temporaries of a co_await
        // expression twice (free(): invalid pointer).
        const HttpResponse too_large = error_json({413, "the request is larger than the server accepts", ""});
        co_await write_whole(stream, too_large, 11, false, ok);
        co_await linger(stream);
        break;
      }
      if (ec) break;  // closed, timed out or not HTTP
      http::request<http::string_body> req = parser.release();
      const bool keep_alive = req.keep_alive();
      if (active > config.max_connections) {
        bool ok = false;
        const HttpResponse busy = error_json({503, "too many connections", "", "server_error"});
        co_await write_whole(stream, busy, req.version(), false, ok);
        break;
      }
      HttpRequest hr;
      hr.method = std::string(req.method_string());
      std::string target(req.target());
      hr.path = target.substr(0, target.find('?'));
      for (const auto& field : req) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        hr.headers[name] = std::string(field.value());
      }
      hr.body = std::move(req.body());
      Reply reply;
      try {
        reply = handler(hr);
      } catch (const std::exception& e) {
        log::error("handler failed on {} {}: {}", hr.method, hr.path, e.what());
        reply.response = error_json({500, "internal error", "", "server_error"});
      }
      if (reply.pending && !reply.pending->finish) {
        const bool ok = co_await write_stream(stream, *reply.pending, req.version());
        if (!ok || !keep_alive) break;
        continue;
      }
      if (reply.pending) {
        co_await pump(stream, *reply.pending, /*sse=*/false);
        try {
          reply.response = reply.pending->finish();
        } catch (const std::exception& e) {
          log::error("handler failed on {} {}: {}", hr.method, hr.path, e.what());
          reply.response = error_json({500, "internal error", "", "server_error"});
        }
      }
      bool ok = false;
      co_await write_whole(stream, reply.response, req.version(), keep_alive, ok);
      if (!ok || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Polls (every 50 ms) until no connection is left, then stops the loop.
  asio::steady_timer drain_timer{ioc};
  void stop_when_drained() {
    if (connections.load() == 0) {
      ioc.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([this](const beast::error_code& ec) {
      if (!ec) stop_when_drained();
    });
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;  // closed for shutdown
      asio::co_spawn(asio::make_strand(ioc), session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpServerConfig config, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->handler = std::move(handler);
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->config.host, ec);
  if (ec) throw_error(ErrorCode::kInvalidArgument, "--host '{}' is not an IP address", impl_->config.host);
  if (impl_->config.port < 0 || impl_->config.port > 65535) {
    throw_error(ErrorCode::kInvalidArgument, "--port {} is not a port number", impl_->config.port);
  }
  tcp::endpoint endpoint{address, static_cast<unsigned short>(impl_->config.port)};
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw_error(ErrorCode::kIo, "cannot listen on {}:{}: {}", impl_->config.host, impl_->config.port, ec.message());
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::stop() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->ioc.stop();
  });
}

void HttpServer::run(int grace_seconds) {
  Impl& impl = *impl_;
  asio::co_spawn(impl.ioc, impl.accept_loop(), asio::detached);
  asio::steady_timer grace(impl.ioc);
  impl.signals.async_wait([&](const beast::error_code& ec, int signal) {
    if (ec) return;
    log::info("signal {}: no new connections; {} s for requests in flight", signal, grace_seconds);
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    grace.expires_after(std::chrono::seconds(grace_seconds));
    grace.async_wait([&](const beast::error_code&) { impl.ioc.stop(); });
    // Done early when the last connection closes.
    impl.stop_when_drained();
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, impl.config.io_threads); ++i) threads.emplace_back([&] { impl.ioc.run(); });
  impl.ioc.run();
  impl.ioc.stop();
  for (std::thread& t : threads) t.join();
}

}  // namespace arle::server
