// The HTTP+JSON API of a member (README "HTTP API"): Boost.Beast on one
// Asio io_context thread, every connection a session on it (no thread per
// connection). It reaches the cluster through corral::Client connected to
// this member's own client URL, with call_async so that the io thread never
// waits: a write sent here while this member follows is carried to the
// leader by the client library.
//
// Bounds: connections (max_connections), headers (max_header_bytes), bodies
// (max_body_bytes: the member's --max-request-bytes), one request at a time
// per connection, watch streams (max_watch_streams) and the bytes each one
// has waiting for a client that does not read (watch_buffer_bytes, and
// watch_total_buffer_bytes over all of them); past these a watch ends with an
// error line.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/error.h"

namespace corral::server {

struct HttpTlsOptions {
  std::string cert_file;        // PEM certificate chain
  std::string key_file;         // PEM private key
  std::string trusted_ca_file;  // CA that signs client certificates
  bool client_cert_auth = false;  // refuse clients without a certificate from trusted_ca_file
};

struct HttpServerOptions {
  std::vector<std::string> listen;  // http://IP:PORT or https://IP:PORT (port 0: any)
  std::string client_endpoint;      // this member's client URL, tcp://IP:PORT
  HttpTlsOptions tls;
  size_t max_body_bytes = 2 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 20'000;
  size_t max_watch_streams = 16'384;
  size_t watch_buffer_bytes = 1 << 20;
  size_t watch_total_buffer_bytes = size_t{256} << 20;
  std::chrono::milliseconds progress_interval{5000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{5000};
  // The text of GET /metrics; null: a minimal "corral_up 1".
  std::function<std::string()> metrics;
  // A token for a user whose identity this server verified itself (the
  // https client certificate's CN), for requests that carry none; null or
  // nullopt: such requests run without a token (anonymous).
  std::function<std::optional<std::string>(std::string_view user)> token_for_user;
};

class HttpServer {
 public:
  // Binds every listen URL and starts the io thread. kBadRequest for a URL
  // that does not parse or an https listener without cert/key files;
  // kUnavailable when a port cannot be bound or a file cannot be read.
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void stop();
  // The listen URLs as bound (port 0 resolved).
  std::vector<std::string> urls() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::server
