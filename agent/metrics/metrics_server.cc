#include "agent/metrics/metrics_server.h"

#include <atomic>
#include <utility>  // before Boost 1.74: its awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "coordinator/metrics/exposition.h"

namespace corral::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::Impl {
  Impl(const metrics::Registry& r) : registry(r), acceptor(io) {}
  const metrics::Registry& registry;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::atomic<size_t> connections{0};

  void accept();
};

namespace {

// One connection: read one request, answer it, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, MetricsServer::Impl& server) : stream_(std::move(socket)), server_(server) {
    ++server_.connections;
  }
  ~Session() { --server_.connections; }

  void start() {
    parser_.header_limit(MetricsServer::kMaxRequestBytes);
    parser_.body_limit(0);
    stream_.expires_after(MetricsServer::kRequestTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) {
      // A request too big is told so; a broken or slow one is just closed.
      if (ec == http::error::header_limit || ec == http::error::body_limit) {
        respond(http::status::request_header_fields_too_large, "text/plain", "request too large\n", 11);
      }
      return;
    }
    const auto& req = parser_.get();
    if (req.target() != "/metrics") {
      respond(http::status::not_found, "text/plain", "not found: GET /metrics\n", req.version());
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      respond(http::status::method_not_allowed, "text/plain", "only GET /metrics\n", req.version());
    } else {
      respond(http::status::ok, std::string(metrics::kContentType), server_.registry.render(), req.version(),
              req.method() == http::verb::head);
    }
  }

  void respond(http::status status, const std::string& type, std::string body, unsigned version, bool head = false) {
    auto res = std::make_shared<http::response<http::string_body>>(status, version);
    res->set(http::field::server, "corral-agent");
    res->set(http::field::content_type, type);
    res->keep_alive(false);
    if (head) {
      res->content_length(body.size());
    } else {
      res->body() = std::move(body);
      res->prepare_payload();
    }
    stream_.expires_after(MetricsServer::kRequestTimeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  MetricsServer::Impl& server_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
};

}  // namespace

void MetricsServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (connections.load() >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), *this)->start();
      }
    }
    accept();
  });
}

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& ip_port, const metrics::Registry& registry,
                                                    std::string& error) {
  auto colon = ip_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == ip_port.size()) {
    error = "'" + ip_port + "' is not IP:PORT";
    return nullptr;
  }
  std::string host = ip_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = ip_port.substr(colon + 1);
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    error = "'" + ip_port + "': port is not 0..65535";
    return nullptr;
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "'" + ip_port + "': '" + host + "' is not an IP address";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(registry);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + ip_port + ": " + ec.message();
    return nullptr;
  }
  impl->accept();
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(impl)));
  server->thread_ = std::thread([s = server.get()] { s->impl_->io.run(); });
  return server;
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->io.stop();
  if (thread_.joinable()) thread_.join();
}

std::string MetricsServer::bound() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  if (ec) return {};
  auto a = ep.address().to_string();
  if (ep.address().is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

}  // namespace corral::agent
