#include "coordinator/server/request_meter.h"

#include <vector>

#include <capnp/schema.h>
#include <capnp/serialize.h>

#include "schema/aligned_words.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

// Names by discriminant / ordinal, read once from the compiled-in schema so
// that a kind added to api.capnp is named without a change here.
std::vector<std::string_view> request_names() {
  std::vector<std::string_view> names;
  for (auto field : capnp::Schema::from<wire::Request>().getUnionFields()) {
    auto d = field.getProto().getDiscriminantValue();
    if (names.size() <= d) names.resize(d + 1, "unknown");
    auto n = field.getProto().getName();
    names[d] = std::string_view(n.cStr(), n.size());
  }
  return names;
}

std::vector<std::string_view> code_names() {
  std::vector<std::string_view> names;
  for (auto e : capnp::Schema::from<wire::ErrorCode>().getEnumerants()) {
    auto n = e.getProto().getName();
    names.emplace_back(n.cStr(), n.size());
  }
  return names;
}

}  // namespace

std::string_view RequestMeter::type_name(wire::Request::Which type) {
  static const std::vector<std::string_view> names = request_names();
  return static_cast<size_t>(type) < names.size() ? names[type] : std::string_view("unknown");
}

std::string_view RequestMeter::code_name(uint16_t code) {
  static const std::vector<std::string_view> names = code_names();
  return code < names.size() ? names[code] : std::string_view("unknown");
}

void RequestMeter::received(const net::ConnectionId& conn, uint64_t id, wire::Request::Which type,
                            Clock::time_point now) {
  note(conn, id, type_name(type), now);
}

void RequestMeter::received_malformed(const net::ConnectionId& conn, uint64_t id, Clock::time_point now) {
  note(conn, id, "malformed", now);
}

void RequestMeter::note(const net::ConnectionId& conn, uint64_t id, std::string_view type, Clock::time_point now) {
  auto key = std::make_pair(conn, id);
  if (waiting_.size() >= kMaxWaiting && now >= next_eviction_) {
    next_eviction_ = now + std::chrono::seconds(1);
    std::erase_if(waiting_, [&](const auto& w) { return now - w.second.since > kMaxWait; });
  }
  if (waiting_.size() >= kMaxWaiting && !waiting_.count(key)) {
    metrics_.requests.with({type, "untracked"}).inc();
    return;
  }
  waiting_[std::move(key)] = Waiting{type, now};
}

void RequestMeter::answered(const net::ConnectionId& conn, std::string_view bytes, Clock::time_point now) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) return;
  std::optional<kj::Array<capnp::word>> copy;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(bytes.data()),
                                           bytes.size() / sizeof(capnp::word));
  } else {
    copy = schema::aligned_words(bytes);
    if (!copy) return;
    words = *copy;
  }
  uint64_t id = 0;
  uint16_t code = 0;
  try {
    capnp::FlatArrayMessageReader reader(words);
    auto msg = reader.getRoot<wire::ServerMessage>();
    if (msg.which() != wire::ServerMessage::RESPONSE) return;
    auto r = msg.getResponse();
    id = r.getId();
    if (r.which() == wire::Response::ERROR) code = static_cast<uint16_t>(r.getError().getCode());
  } catch (const kj::Exception&) {
    return;  // our own frame; unreadable only if it was never a response
  }
  auto it = waiting_.find(std::make_pair(conn, id));
  // A snapshot's later chunks answer a request already counted.
  if (it == waiting_.end()) return;
  auto& series = this->series(it->second.type, code);
  series.requests->inc();
  series.seconds->observe(now - it->second.since);
  waiting_.erase(it);
}

RequestMeter::Series& RequestMeter::series(std::string_view type, uint16_t code) {
  auto key = std::make_pair(type, code);
  auto it = series_.find(key);
  if (it == series_.end()) {
    it = series_.emplace(key, Series{&metrics_.requests.with({type, code_name(code)}),
                                     &metrics_.request_seconds.with({type})}).first;
  }
  return it->second;
}

void RequestMeter::forget(const net::ConnectionId& conn) {
  auto first = waiting_.lower_bound(std::make_pair(conn, uint64_t{0}));
  auto last = first;
  while (last != waiting_.end() && last->first.first == conn) ++last;
  waiting_.erase(first, last);
}

}  // namespace corral::server
