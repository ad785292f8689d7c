#include "agent/source/fetch_server.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>

#include "agent/fetch/fetch_codec.h"

namespace corral::agent::source {

using fetch::FetchErrorCode;

fetch::Result<std::unique_ptr<FetchServer>> FetchServer::create(zmq::context_t& context,
                                                                Tailer& tailer,
                                                                const FetchServerOptions& options) {
  net::ClientListenerOptions o;
  o.bind_endpoint = options.listen_endpoint;
  o.max_request_bytes = kMaxAcceptedFrameBytes;
  o.max_queued_requests_per_connection = options.max_queued_requests_per_connection;
  o.max_queued_replies_per_connection = options.max_queued_replies_per_connection;
  auto listener = net::ZmqClientListener::create(context, o);
  if (!listener.ok()) {
    const auto code = listener.error().code == ErrorCode::kUnavailable ? FetchErrorCode::kUnavailable
                                                                       : FetchErrorCode::kBadRequest;
    return fetch::make_fetch_error(code, listener.error().message);
  }
  return std::unique_ptr<FetchServer>(new FetchServer(tailer, std::move(listener).value()));
}

std::string FetchServer::bound_endpoint() const { return listener_->bound_endpoint().to_zmq(); }

fetch::AgentResponse FetchServer::answer(const std::string& payload) {
  fetch::Result<fetch::AgentRequest> request = fetch::decode_request(payload);
  if (!request.ok()) {
    ++stats_.malformed;
    return fetch::error_reply(0, request.error().code, request.error().message);
  }
  ++stats_.requests;
  if (const auto* f = std::get_if<fetch::FetchRequest>(&request.value())) return tailer_.read(*f);
  const auto& s = std::get<fetch::StreamsRequest>(request.value());
  return fetch::StreamsReply{s.id, tailer_.streams()};
}

fetch::Status FetchServer::poll_once(std::chrono::milliseconds timeout) {
  const auto wait = std::min(timeout, tailer_.poll_timeout());
  zmq_pollitem_t items[2] = {{listener_->socket().handle(), 0, ZMQ_POLLIN, 0},
                             {nullptr, tailer_.fd(), ZMQ_POLLIN, 0}};
  const int count = tailer_.fd() >= 0 ? 2 : 1;
  if (zmq_poll(items, count, static_cast<long>(wait.count())) < 0 && errno == ETERM) {
    return fetch::make_fetch_error(FetchErrorCode::kUnavailable, "ZeroMQ context is shutting down");
  }
  tailer_.poll_changes();
  batch_.clear();
  listener_->receive(kMaxRequestsPerPoll, batch_);
  for (const net::ClientRequest& request : batch_) {
    const std::string bytes = fetch::encode_response(answer(request.payload));
    if (listener_->send(request.connection, bytes) != net::ClientSendResult::kSent) {
      ++stats_.dropped_replies;
    }
  }
  return {};
}

fetch::Status FetchServer::run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    if (fetch::Status s = poll_once(kRunPollTimeout); !s.ok()) return s;
  }
  return {};
}

}  // namespace corral::agent::source
