#include "coordinator/server/http_server.h"

#include <thread>

#include "coordinator/http/listen_url.h"
#include "coordinator/server/http_session.h"
#include "coordinator/server/log.h"

namespace corral::server {
namespace {

using tcp = net::ip::tcp;

// Watches per client connection: well under the member's
// --max-watchers-per-connection default (10000).
constexpr size_t kWatchesPerClient = 4096;
// Connections for key-space requests: a few, so that one client I/O thread
// is not the limit of the whole API.
constexpr size_t kKvClients = 4;
// A request's envelope around its body.
constexpr size_t kEnvelopeBytes = 64 * 1024;

// The member's client URL as a client connects to it (a wildcard listen
// address is reached on loopback).
std::string connectable(std::string endpoint) {
  for (const char* any : {"0.0.0.0", "[::]"}) {
    auto at = endpoint.find(any);
    if (at != std::string::npos) endpoint.replace(at, std::string(any).size(), any[0] == '0' ? "127.0.0.1" : "[::1]");
  }
  return endpoint;
}

}  // namespace

struct HttpServer::Impl {
  net::io_context ioc{1};
  std::optional<net::ssl::context> tls;
  std::vector<std::unique_ptr<client::Client>> clients;  // kv clients, local, then watch clients
  std::shared_ptr<HttpShared> shared;
  struct Listener {
    tcp::acceptor acceptor;
    bool tls = false;
    std::string url;
  };
  std::vector<std::unique_ptr<Listener>> listeners;
  net::steady_timer progress_timer{ioc};
  std::thread thread;
  bool stopped = false;

  // The https listeners' TLS context, if any listener is https.
  Status load_tls(const HttpTlsOptions& t, bool any_tls) {
    if (any_tls && (t.cert_file.empty() || t.key_file.empty())) {
      return make_error(ErrorCode::kBadRequest, "an https listener needs --cert-file and --key-file");
    }
    if (t.client_cert_auth && t.trusted_ca_file.empty()) {
      return make_error(ErrorCode::kBadRequest, "--client-cert-auth needs --trusted-ca-file");
    }
    if (!any_tls) return {};
    try {
      auto& ctx = tls.emplace(net::ssl::context::tls_server);
      ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                      net::ssl::context::single_dh_use);
      ctx.use_certificate_chain_file(t.cert_file);
      ctx.use_private_key_file(t.key_file, net::ssl::context::pem);
      if (!t.trusted_ca_file.empty()) {
        ctx.load_verify_file(t.trusted_ca_file);
        ctx.set_verify_mode(net::ssl::verify_peer |
                            (t.client_cert_auth ? net::ssl::verify_fail_if_no_peer_cert : 0));
      }
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kBadRequest, std::string("TLS files of the https listener: ") + e.what());
    }
    return {};
  }

  // A listener bound to `url` (port 0: the kernel's choice, in its url).
  Status bind(const http::ListenUrl& url) {
    beast::error_code ec;
    auto address = net::ip::make_address(url.host, ec);
    if (ec) return make_error(ErrorCode::kBadRequest, "--listen-http " + http::to_string(url) + ": " + ec.message());
    auto l = std::make_unique<Listener>(Listener{tcp::acceptor(ioc), url.tls, {}});
    tcp::endpoint endpoint(address, static_cast<unsigned short>(url.port));
    l->acceptor.open(endpoint.protocol(), ec);
    if (!ec) l->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(endpoint, ec);
    if (!ec) l->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return make_error(ErrorCode::kUnavailable, "--listen-http " + http::to_string(url) + ": " + ec.message());
    http::ListenUrl bound = url;
    bound.port = l->acceptor.local_endpoint().port();
    l->url = http::to_string(bound);
    listeners.push_back(std::move(l));
    return {};
  }

  // The member's client connections: kKvClients for key-space requests, one
  // for local requests, then enough for max_watch_streams watches.
  Status connect_clients(const HttpServerOptions& options) {
    client::Options copts;
    copts.endpoints = {connectable(options.client_endpoint)};
    copts.request_timeout = options.request_timeout;
    copts.max_request_bytes = options.max_body_bytes + kEnvelopeBytes;
    const size_t watch_clients =
        std::max<size_t>(1, (options.max_watch_streams + kWatchesPerClient - 1) / kWatchesPerClient);
    for (size_t i = 0; i < kKvClients + 1 + watch_clients; ++i) {
      auto c = client::Client::connect(copts);
      if (!c.ok()) {
        return make_error(ErrorCode::kBadRequest, "http: client of " + copts.endpoints[0] + ": " + c.error().message);
      }
      clients.push_back(std::move(c).value());
    }
    return {};
  }

  void accept(Listener& l) {
    l.acceptor.async_accept(ioc, [this, &l](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) on_accept(l, std::move(socket));
      accept(l);
    });
  }

  void on_accept(Listener& l, tcp::socket socket) {
    if (shared->connections >= shared->options.max_connections) {
      log_warn("http: %zu connections, the most allowed: one more closed", shared->connections);
      beast::error_code ignored;
      socket.close(ignored);
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (l.tls) {
      std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
          shared, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls))
          ->start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(shared, beast::tcp_stream(std::move(socket)))->start();
    }
  }

  // Asks each watch client's member for progress on its watches: every
  // stream then gets a progress line (the member's own period is minutes).
  void tick_progress() {
    progress_timer.expires_after(shared->options.progress_interval);
    progress_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      if (shared->watch_streams > 0) {
        for (client::Client* c : shared->watch_clients) {
          c->call_async(client::WatchProgressRequest{}, {}, [](client::Result<client::WatchProgressResult>) {});
        }
      }
      tick_progress();
    });
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options) {
  auto impl = std::make_unique<Impl>();
  std::vector<http::ListenUrl> urls;
  bool any_tls = false;
  for (const auto& text : options.listen) {
    auto url = http::parse_listen_url(text);
    if (!url) return make_error(ErrorCode::kBadRequest, "--listen-http " + text + ": not http://IP:PORT or https://IP:PORT");
    any_tls = any_tls || url->tls;
    urls.push_back(*url);
  }
  if (Status s = impl->load_tls(options.tls, any_tls); !s.ok()) return s.error();
  for (const auto& url : urls) {
    if (Status s = impl->bind(url); !s.ok()) return s.error();
  }
  if (Status s = impl->connect_clients(options); !s.ok()) return s.error();
  impl->shared = std::make_shared<HttpShared>(impl->ioc);
  auto& shared = *impl->shared;
  for (size_t i = 0; i < kKvClients; ++i) shared.backend.kvs.push_back(impl->clients[i].get());
  shared.backend.local = impl->clients[kKvClients].get();
  shared.backend.metrics = options.metrics;
  for (size_t i = kKvClients + 1; i < impl->clients.size(); ++i) shared.watch_clients.push_back(impl->clients[i].get());
  shared.options = std::move(options);

  for (auto& l : impl->listeners) {
    impl->accept(*l);
    log_event("http: listening on %s", l->url.c_str());
  }
  impl->tick_progress();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    try {
      raw->ioc.run();
    } catch (const std::exception& e) {
      log_error("http: io thread stopped: %s", e.what());
    }
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Clients go before the io_context: their last callbacks post to it.
  impl_->clients.clear();
}

std::vector<std::string> HttpServer::urls() const {
  std::vector<std::string> out;
  for (const auto& l : impl_->listeners) out.push_back(l->url);
  return out;
}

}  // namespace corral::server
