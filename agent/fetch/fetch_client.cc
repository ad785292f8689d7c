#include "agent/fetch/fetch_client.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "agent/fetch/fetch_codec.h"
#include "coordinator/base/check.h"

namespace corral::agent::fetch {
namespace {

// ZeroMQ queues: requests waiting for the TCP connection, answers not read.
// Both are bounded by our in-flight bound already; these only cap ZeroMQ.
constexpr int kQueuedFramesPerInFlight = 2;

uint64_t reply_budget_bytes(uint32_t max_bytes) {
  // What one answer may bring back: its data bound, or one whole line.
  return std::max<uint64_t>(std::min(max_bytes, kMaxReplyDataBytes), kMaxLineBytes);
}

}  // namespace

FetchClient::FetchClient(zmq::context_t& context, FetchClientOptions options)
    : context_(context), options_(std::move(options)) {}

Result<std::unique_ptr<FetchClient>> FetchClient::create(zmq::context_t& context,
                                                         FetchClientOptions options) {
  if (options.max_in_flight == 0 || options.max_in_flight > kMaxInFlightLimit) {
    return make_fetch_error(FetchErrorCode::kBadRequest,
                            "max_in_flight must be 1.." + std::to_string(kMaxInFlightLimit));
  }
  if (options.max_in_flight_bytes < reply_budget_bytes(kMaxReplyDataBytes)) {
    return make_fetch_error(FetchErrorCode::kBadRequest,
                            "max_in_flight_bytes must allow one full answer");
  }
  std::unique_ptr<FetchClient> c(new FetchClient(context, std::move(options)));
  if (Status s = c->connect(); !s.ok()) return s.error();
  return c;
}

Status FetchClient::connect() {
  net::ClientConnectionOptions o;
  o.endpoint = options_.endpoint;
  const int frames = static_cast<int>(options_.max_in_flight) * kQueuedFramesPerInFlight;
  o.max_queued_requests = frames;
  o.max_queued_replies = frames;
  o.max_reply_bytes = static_cast<int64_t>(kMaxResponseBytes);
  auto c = net::ZmqClientConnection::create(context_, o);
  if (!c.ok()) return make_fetch_error(FetchErrorCode::kBadRequest, c.error().message);
  connection_ = std::move(c).value();
  return {};
}

void FetchClient::reconnect() {
  std::vector<uint64_t> ids;
  for (const auto& [id, p] : pending_) ids.push_back(id);
  for (uint64_t id : ids) {
    complete(id, make_fetch_error(FetchErrorCode::kClosed, "reconnecting to " + options_.endpoint));
  }
  // Same options as the first time: they were accepted then.
  CORRAL_CHECK(connect().ok());
  ++reconnects_;
}

Result<uint64_t> FetchClient::send(const AgentRequest& request, Kind kind, uint64_t bytes,
                                   std::chrono::milliseconds timeout) {
  if (pending_.size() >= options_.max_in_flight ||
      pending_bytes_ + bytes > options_.max_in_flight_bytes) {
    return make_fetch_error(FetchErrorCode::kBackpressure,
                            std::to_string(pending_.size()) + " requests in flight");
  }
  const uint64_t id = std::visit([](const auto& r) { return r.id; }, request);
  if (connection_->send(encode_request(request)) != net::ClientSendResult::kSent) {
    return make_fetch_error(FetchErrorCode::kBackpressure, "ZeroMQ send queue full");
  }
  const auto now = Clock::now();
  pending_.emplace(id, Pending{kind, now, now + timeout, bytes});
  pending_bytes_ += bytes;
  return id;
}

Result<uint64_t> FetchClient::submit(FetchRequest request, std::chrono::milliseconds timeout) {
  request.id = next_id_++;
  if (Status s = validate(request); !s.ok()) return s.error();
  return send(AgentRequest(request), Kind::kFetch, reply_budget_bytes(request.max_bytes), timeout);
}

void FetchClient::complete(uint64_t id, Result<FetchReply> reply) {
  auto it = pending_.find(id);
  CORRAL_CHECK(it != pending_.end());
  pending_bytes_ -= it->second.bytes;
  const Kind kind = it->second.kind;
  pending_.erase(it);
  if (kind == Kind::kFetch) {
    ready_.push_back(FetchCompletion{id, std::move(reply)});
  } else if (!reply.ok()) {
    streams_ready_.emplace(id, reply.error());
  }
}

void FetchClient::handle_frame(const std::string& bytes) {
  last_receive_ = Clock::now();
  Result<AgentResponse> decoded = decode_response(bytes);
  // An undecodable answer cannot be matched to its request: that request
  // times out. Answers to unknown ids (timed out already) are dropped.
  if (!decoded.ok()) return;
  if (auto* reply = std::get_if<FetchReply>(&decoded.value())) {
    auto it = pending_.find(reply->id);
    if (it == pending_.end() || it->second.kind != Kind::kFetch) return;
    complete(reply->id, std::move(*reply));
    return;
  }
  auto& streams = std::get<StreamsReply>(decoded.value());
  auto it = pending_.find(streams.id);
  if (it == pending_.end() || it->second.kind != Kind::kStreams) return;
  pending_bytes_ -= it->second.bytes;
  pending_.erase(it);
  streams_ready_.emplace(streams.id, std::move(streams));
}

void FetchClient::drain_socket() {
  // At most the frames ZeroMQ may hold for us: the loop always ends.
  const size_t max_frames = options_.max_in_flight * kQueuedFramesPerInFlight + 1;
  for (size_t i = 0; i < max_frames; ++i) {
    std::optional<std::string> frame = connection_->try_receive();
    if (!frame) break;
    handle_frame(*frame);
  }
}

void FetchClient::expire(Clock::time_point now) {
  std::vector<uint64_t> due;
  bool silent = false;
  for (const auto& [id, p] : pending_) {
    if (p.deadline > now) continue;
    due.push_back(id);
    if (last_receive_ < p.sent) silent = true;
  }
  for (uint64_t id : due) {
    complete(id, make_fetch_error(FetchErrorCode::kTimeout,
                                  "no answer from " + options_.endpoint + " in time"));
  }
  if (silent) reconnect();
}

FetchClient::Clock::time_point FetchClient::next_deadline() const {
  auto earliest = Clock::time_point::max();
  for (const auto& [id, p] : pending_) earliest = std::min(earliest, p.deadline);
  return earliest;
}

void FetchClient::wait_readable(Clock::time_point until) {
  const auto now = Clock::now();
  if (until <= now) return;
  // Rounded up: waking before the deadline would only loop once more.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  zmq_pollitem_t item{connection_->socket().handle(), 0, ZMQ_POLLIN, 0};
  zmq_poll(&item, 1, static_cast<long>(left.count()));
}

std::vector<FetchCompletion> FetchClient::collect(std::chrono::milliseconds wait) {
  const auto until = Clock::now() + wait;
  while (true) {
    drain_socket();
    expire(Clock::now());
    if (!ready_.empty() || Clock::now() >= until) break;
    wait_readable(std::min(until, next_deadline()));
  }
  std::vector<FetchCompletion> out(std::make_move_iterator(ready_.begin()),
                                   std::make_move_iterator(ready_.end()));
  ready_.clear();
  return out;
}

Result<FetchReply> FetchClient::fetch(FetchRequest request, std::chrono::milliseconds timeout) {
  Result<uint64_t> id = submit(std::move(request), timeout);
  if (!id.ok()) return id.error();
  while (true) {
    drain_socket();
    expire(Clock::now());
    auto it = std::find_if(ready_.begin(), ready_.end(),
                           [&](const FetchCompletion& c) { return c.id == *id; });
    if (it != ready_.end()) {
      Result<FetchReply> reply = std::move(it->reply);
      ready_.erase(it);
      return reply;
    }
    // Our request is pending until answered or expired: the loop ends.
    wait_readable(next_deadline());
  }
}

Result<StreamsReply> FetchClient::streams(std::chrono::milliseconds timeout) {
  Result<uint64_t> id = send(AgentRequest(StreamsRequest{next_id_++}), Kind::kStreams, 0, timeout);
  if (!id.ok()) return id.error();
  while (true) {
    drain_socket();
    expire(Clock::now());
    auto it = streams_ready_.find(*id);
    if (it != streams_ready_.end()) {
      Result<StreamsReply> reply = std::move(it->second);
      streams_ready_.erase(it);
      return reply;
    }
    wait_readable(next_deadline());
  }
}

}  // namespace corral::agent::fetch
