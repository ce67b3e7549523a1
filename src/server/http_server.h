#pragma once
// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast + Asio C++20
// coroutines, a few I/O threads, one strand per connection. Every request
// goes to one Handler; streamed replies are written as chunked Server-Sent
// Events while the engine produces them. Limits: body and header size (413),
// connection count (503), idle keep-alive timeout. This header keeps Beast
// out of every other translation unit.

#include <memory>

#include "server/http_types.h"

namespace arle::server {

class HttpServer {
 public:
  // Binds at once (throws kIo when the address is taken); port 0 picks one.
  HttpServer(HttpServerConfig config, Handler handler);
  ~HttpServer();
  int port() const;
  // Serves until stop() or SIGINT/SIGTERM; then stops accepting, gives
  // in-flight requests up to `grace_seconds` and returns.
  void run(int grace_seconds = 10);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arle::server
