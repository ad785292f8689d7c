// One HTTP connection of the API (plain or TLS), on the server's io thread:
// reads a request, answers it (http_handlers.h), reads the next; or turns
// into a watch stream (chunked newline-delimited JSON until either side
// ends it) or a long poll (one answer: the first event, or 408 at its
// timeout). Only the io thread touches a session; client callbacks post to it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "client/client.h"
#include "coordinator/http/key_params.h"
#include "coordinator/http/kv_json.h"
#include "coordinator/http/request_context.h"
#include "coordinator/http/route.h"
#include "coordinator/server/http_handlers.h"
#include "coordinator/server/http_server.h"

namespace corral::server {

namespace beast = boost::beast;
namespace net = boost::asio;

// What every session of one server shares; touched only on the io thread.
struct HttpShared {
  explicit HttpShared(net::io_context& io) : ioc(io) {}
  net::io_context& ioc;
  HttpServerOptions options;
  HttpBackend backend;
  std::vector<client::Client*> watch_clients;  // watches spread over these
  size_t next_watch_client = 0;
  size_t connections = 0;
  size_t watch_streams = 0;    // streams and long polls
  size_t buffered_bytes = 0;   // waiting in every stream's buffers
};

// A watch stream's bytes past this are the ones given up first when all
// streams together pass watch_total_buffer_bytes.
inline constexpr size_t kStreamShareBytes = 64 * 1024;
// How long an ending stream or a refused connection gets to flush its last
// bytes and to drain what its client still sends, before it is closed.
inline constexpr std::chrono::seconds kLingerSeconds{2};
inline constexpr std::chrono::seconds kSlowLingerSeconds{30};
inline constexpr std::chrono::seconds kHandshakeSeconds{10};
inline constexpr size_t kDrainBytes = 64 * 1024 * 1024;

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  enum class Mode { kRequests, kStream, kLongPoll, kClosing };

 public:
  HttpSession(std::shared_ptr<HttpShared> shared, Stream stream)
      : shared_(std::move(shared)), stream_(std::move(stream)), linger_(shared_->ioc) {
    ++shared_->connections;
  }
  ~HttpSession() {
    --shared_->connections;
    shared_->buffered_bytes -= buffered();
    if (watching_) --shared_->watch_streams;
  }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(kHandshakeSeconds);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->client_cn_ = self->peer_common_name();
                                self->read_request();
                              });
    } else {
      read_request();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  size_t buffered() const { return out_.size() + writing_.size(); }

  std::string peer_common_name() {
    if constexpr (kTls) {
      X509* cert = SSL_get1_peer_certificate(stream_.native_handle());
      if (cert == nullptr) return {};
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
      X509_free(cert);
      return cn;
    }
    return {};
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    lowest().expires_after(shared_->options.idle_timeout);
    // The header first: a Content-Length past the bound is refused (413)
    // before any of the body is read, and a client that sent "Expect:
    // 100-continue" is told to go on only then (curl waits a second for it
    // otherwise).
    beast::http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec || parser_->is_done()) return on_read(ec);
    if (!expects_continue(parser_->get())) return read_body();
    continue_.emplace(beast::http::status::continue_, 11);
    beast::http::async_write(stream_, *continue_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->continue_.reset();
      if (ec) return self->close();
      self->read_body();
    });
  }

  static bool expects_continue(const beast::http::request<beast::http::string_body>& req) {
    auto expect = req.find(beast::http::field::expect);
    return expect != req.end() && beast::iequals(expect->value(), "100-continue");
  }

  void read_body() {
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    namespace h = beast::http;
    if (!ec) return dispatch();
    const bool parse_error = ec.category() == h::make_error_code(h::error::bad_method).category();
    if (!parse_error || ec == h::error::end_of_stream || !parser_->got_some()) return close();
    if (ec == h::error::body_limit) {
      return refuse(http::too_large("the body is over " + std::to_string(shared_->options.max_body_bytes) + " bytes"));
    }
    if (ec == h::error::header_limit) {
      return refuse({431, "headersTooLarge",
                     "the headers are over " + std::to_string(shared_->options.max_header_bytes) + " bytes"});
    }
    refuse(http::bad_request("malformed HTTP request: " + ec.message()));
  }

  void dispatch() {
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    auto target = http::split_target(std::string_view(req.target().data(), req.target().size()));
    auto routed = http::route(std::string_view(req.method_string().data(), req.method_string().size()), target.path);
    if (auto* e = std::get_if<http::RouteError>(&routed)) {
      HttpReply reply = error_reply(e->error);
      reply.allow = e->allow;
      return send(std::move(reply));
    }
    HttpCall call;
    call.route = std::get<http::Route>(std::move(routed));
    call.query = std::string(target.query);
    call.content_type = std::string(req[beast::http::field::content_type]);
    call.body = std::move(req.body());
    if (auto auth = req.find(beast::http::field::authorization); auth != req.end()) {
      call.context.token = http::token_of(std::string_view(auth->value().data(), auth->value().size()));
    }
    call.context.client_cn = client_cn_;
    if (!call.context.token && !client_cn_.empty() && shared_->options.token_for_user) {
      call.context.token = shared_->options.token_for_user(client_cn_);
    }
    if (call.route.kind == http::RouteKind::kWatch) return start_watch(call);
    if (call.route.kind == http::RouteKind::kGetKey && wants_wait(call.query)) return start_long_poll(call);
    // The answer's callback holds the session: nothing else does until it writes.
    handle_http_call(shared_->backend, call, [self = this->shared_from_this(), &ioc = shared_->ioc](HttpReply reply) {
      net::post(ioc, [self, reply = std::move(reply)]() mutable { self->send(std::move(reply)); });
    });
  }

  static bool wants_wait(const std::string& query) {
    auto params = http::parse_params(query);
    return params && params->count("wait") && http::parse_bool(params->at("wait")).value_or(false);
  }

  beast::http::response<beast::http::string_body> make_response(HttpReply reply) {
    beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(reply.status), 11};
    res.set(beast::http::field::server, "corral");
    res.set(beast::http::field::content_type, reply.content_type);
    if (!reply.allow.empty()) res.set(beast::http::field::allow, reply.allow);
    if (reply.retry_after > 0) res.set(beast::http::field::retry_after, std::to_string(reply.retry_after));
    res.keep_alive(keep_alive_);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    return res;
  }

  void send(HttpReply reply) {
    if (mode_ == Mode::kClosing) return;
    response_ = make_response(std::move(reply));
    lowest().expires_after(shared_->options.idle_timeout);
    beast::http::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->response_.reset();
      if (ec || !self->keep_alive_) return self->finish();
      self->mode_ = Mode::kRequests;
      // A long poll's close watch is still reading: it starts the next request.
      if (self->close_watch_pending_) return self->close_if_still_idle();
      self->read_request();
    });
  }

  // Answers bad input that leaves the connection unreadable (a body or
  // headers past their bound, a malformed request): the answer, then the rest
  // of what the client sends is drained before closing, so that it reads
  // the answer instead of a reset.
  void refuse(const http::HttpError& error) {
    keep_alive_ = false;
    mode_ = Mode::kRequests;
    send(error_reply(error));
  }

  // After the last answer: shut the sending side, drain, close.
  void finish() {
    mode_ = Mode::kClosing;
    // A long poll's close watch still reads: a second read must not race
    // it, and nothing more is read anyway (the answer is written).
    if (close_watch_pending_) return close();
    beast::error_code ignored;
    lowest().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    lowest().expires_after(kLingerSeconds);
    drain();
  }

  void drain() {
    drain_buf_.resize(16 * 1024);
    lowest().async_read_some(net::buffer(drain_buf_), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kDrainBytes) return self->close();
      self->drain();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    mode_ = Mode::kClosing;
    watch_.cancel();
    linger_.cancel();
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  // --- watch streams and long polls ---------------------------------------

  client::Client* next_watch_client() {
    auto& clients = shared_->watch_clients;
    return clients[shared_->next_watch_client++ % clients.size()];
  }

  bool admit_watch() {
    if (shared_->watch_streams >= shared_->options.max_watch_streams) {
      HttpReply reply = error_reply({503, "unavailable",
                                     "too many watches on this member (" +
                                         std::to_string(shared_->options.max_watch_streams) + ")"});
      reply.retry_after = 1;
      send(std::move(reply));
      return false;
    }
    ++shared_->watch_streams;
    watching_ = true;
    return true;
  }

  void release_watch() {
    watch_.cancel();
    if (watching_) --shared_->watch_streams;
    watching_ = false;
  }

  client::WatchCallback watch_callback() {
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    return [weak, &ioc = shared_->ioc](const client::WatchUpdate& u) {
      net::post(ioc, [weak, u] {
        if (auto self = weak.lock()) self->on_watch_update(u);
      });
    };
  }

  static client::WatchOptions watch_range(const std::string& key, bool recursive, int64_t revision) {
    client::WatchOptions o;
    if (recursive) {
      o.key = key == "/" ? "/" : http::dir_prefix(key);
      o.range_end = client::prefix_range_end(o.key);
    } else {
      o.key = key;
    }
    o.start_revision = revision;
    return o;
  }

  void start_watch(const HttpCall& call) {
    auto params = http::parse_params(call.query);
    if (!params) return send(error_reply(http::bad_request("the query string is not percent-encoded correctly")));
    auto plan = http::watch_plan(call.route.key, *params);
    if (auto* e = std::get_if<http::HttpError>(&plan)) return send(error_reply(*e));
    if (!admit_watch()) return;
    const auto& p = std::get<http::WatchPlan>(plan);
    auto options = watch_range(p.key, p.recursive, p.revision);
    options.prev_kv = p.prev_kv;
    mode_ = Mode::kStream;
    append_raw(
        "HTTP/1.1 200 OK\r\nServer: corral\r\nContent-Type: application/x-ndjson\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
    flush();
    watch_ = next_watch_client()->watch(http::watch_options_for(call.context, std::move(options)), watch_callback());
    lowest().expires_never();
    watch_for_close();
  }

  // A stream reads nothing more; a read that ends tells that the client left.
  void watch_for_close() {
    drain_buf_.resize(4096);
    stream_.async_read_some(net::buffer(drain_buf_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->watch_for_close();
    });
  }

  // A long poll reads while it waits, so that a client that goes away ends
  // its watch at once rather than at the timeout. Bytes that do come (the
  // next request, pipelined) are kept in buffer_ for it; from then on the
  // poll no longer notices a close, which is fine: that client is there.
  void watch_poll_for_close() {
    close_watch_pending_ = true;
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->close_watch_pending_ = false;
      if (ec) return self->close();
      self->buffer_.commit(n);
      if (self->mode_ == Mode::kRequests) self->linger_.cancel();
      // The answer was written while this read waited: the next request is read now.
      if (self->mode_ == Mode::kRequests && !self->response_) self->read_request();
    });
  }

  // That read began with no deadline (a poll waits as long as it asks):
  // the keep-alive idle bound applies again from the answer on.
  void close_if_still_idle() {
    linger_.expires_after(shared_->options.idle_timeout);
    linger_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec && self->close_watch_pending_) self->close();
    });
  }

  void start_long_poll(const HttpCall& call) {
    auto params = http::parse_params(call.query);
    if (!params) return send(error_reply(http::bad_request("the query string is not percent-encoded correctly")));
    auto plan = http::get_plan(call.route.key, *params);
    if (auto* e = std::get_if<http::HttpError>(&plan)) return send(error_reply(*e));
    if (!admit_watch()) return;
    const auto& p = std::get<http::GetPlan>(plan);
    mode_ = Mode::kLongPoll;
    watch_ = next_watch_client()->watch(http::watch_options_for(call.context, watch_range(p.key, p.recursive, p.wait_revision)),
                                        watch_callback());
    lowest().expires_never();
    // A pipelined request already read waits in buffer_ for the answer; a
    // second read must not race the one that will parse it.
    if (buffer_.size() == 0) watch_poll_for_close();
    linger_.expires_after(std::chrono::seconds(p.timeout_seconds));
    linger_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->mode_ != Mode::kLongPoll) return;
      self->release_watch();
      http::HttpError e{408, "timeout", "no event within the wait timeout"};
      if (self->last_revision_ > 0) e.details["revision"] = self->last_revision_;
      self->send(error_reply(e));
    });
  }

  void on_watch_update(const client::WatchUpdate& u) {
    if (closed_ || !watching_) return;
    if (u.revision > last_revision_) last_revision_ = u.revision;
    if (mode_ == Mode::kLongPoll) {
      if (!u.error && u.events.empty()) return;
      linger_.cancel();
      release_watch();
      if (u.error) return send(error_reply(http::from_client_error(*u.error)));
      nlohmann::json out = http::event_json(u.events.front());
      out["revision"] = u.revision;
      return send(json_reply(200, out));
    }
    if (mode_ != Mode::kStream) return;
    if (u.error) return end_stream(http::from_client_error(*u.error));
    std::string lines;
    if (u.created && !created_sent_) {
      created_sent_ = true;
      lines += http::dump({{"created", true}, {"revision", u.revision}}) + "\n";
    }
    if (u.progress) lines += http::dump({{"progress", true}, {"revision", u.revision}}) + "\n";
    for (const auto& event : u.events) lines += http::dump(http::event_json(event)) + "\n";
    if (lines.empty()) return;
    const auto& o = shared_->options;
    const size_t mine = buffered() + lines.size();
    if (mine > o.watch_buffer_bytes ||
        (shared_->buffered_bytes + lines.size() > o.watch_total_buffer_bytes && mine > kStreamShareBytes)) {
      return end_stream({503, "slowWatcher",
                         "the client did not read its watch stream: " + std::to_string(buffered()) +
                             " bytes were waiting; resume from revision " + std::to_string(delivered_revision_ + 1)});
    }
    append_chunk(lines);
    for (const auto& event : u.events) delivered_revision_ = std::max(delivered_revision_, event.kv.mod_revision);
    flush();
  }

  // The error line goes after the write in progress; the whole chunks not yet
  // written are dropped (a slow client would wait for them first, and they
  // are what the bound is about). The client has kSlowLingerSeconds to read
  // up to the error line before the connection is closed.
  void end_stream(const http::HttpError& error) {
    release_watch();
    shared_->buffered_bytes -= out_.size();
    out_.clear();
    append_chunk(http::dump(http::error_json(error)) + "\n");
    append_raw("0\r\n\r\n");
    ending_ = true;
    flush();
    linger_.expires_after(kSlowLingerSeconds);
    linger_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->close();
    });
  }

  void append_raw(const std::string& bytes) {
    out_ += bytes;
    shared_->buffered_bytes += bytes.size();
  }

  void append_chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    append_raw(size + data + "\r\n");
  }

  void flush() {
    if (writing_in_progress_ || closed_) return;
    if (out_.empty()) {
      if (ending_) close();
      return;
    }
    writing_.swap(out_);
    writing_in_progress_ = true;
    net::async_write(stream_, net::buffer(writing_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->writing_in_progress_ = false;
      self->shared_->buffered_bytes -= self->writing_.size();
      self->writing_.clear();
      if (ec) return self->close();
      self->flush();
    });
  }

  std::shared_ptr<HttpShared> shared_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::optional<beast::http::response<beast::http::string_body>> response_;
  std::optional<beast::http::response<beast::http::empty_body>> continue_;
  bool close_watch_pending_ = false;
  std::vector<char> drain_buf_;
  size_t drained_ = 0;
  net::steady_timer linger_;  // long-poll timeout, or an ending stream's last chance
  std::string client_cn_;
  Mode mode_ = Mode::kRequests;
  bool keep_alive_ = true;
  bool closed_ = false;
  // Watch stream state.
  client::WatchHandle watch_;
  bool watching_ = false;
  bool created_sent_ = false;
  bool ending_ = false;
  bool writing_in_progress_ = false;
  std::string out_;      // chunks not yet handed to a write
  std::string writing_;  // the chunks of the write in progress
  int64_t last_revision_ = 0;
  int64_t delivered_revision_ = 0;
};

}  // namespace corral::server
