// A blocking test client for corrald's protocol: builds requests, sends them
// over a DEALER and waits (with a deadline) for the response of that id.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <zmq.hpp>

#include "coordinator/api/response.h"
#include "coordinator/net/client_connection.h"
#include "schema/api.capnp.h"
#include "schema/data_bytes.h"

namespace corral::testing {

namespace wire = corral::schema::api;

using schema::as_data;
using schema::as_string;

// A decoded ServerMessage that keeps its bytes alive.
class Reply {
 public:
  explicit Reply(std::string bytes) : words_(kj::heapArray<capnp::word>(bytes.size() / 8)) {
    std::memcpy(words_.begin(), bytes.data(), words_.size() * 8);
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr());
  }
  wire::ServerMessage::Reader get() const { return reader_->getRoot<wire::ServerMessage>(); }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

class TestClient {
 public:
  TestClient(zmq::context_t& ctx, const std::string& endpoint) {
    net::ClientConnectionOptions o;
    o.endpoint = endpoint;
    auto c = net::ClientConnection::create(ctx, o);
    if (c.ok()) conn_ = std::move(c).value();
  }
  bool ok() const { return conn_ != nullptr; }

  // Sends a request built by `fill` and waits for its response (or nullopt
  // at the deadline). Other messages (watch events) are kept in `others`.
  std::optional<Reply> call(const std::function<void(wire::Request::Builder)>& fill,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<wire::Request>();
    uint64_t id = next_id_++;
    r.setId(id);
    fill(r);
    conn_->send(api::to_flat_bytes(m));
    return wait_response(id, timeout);
  }

  std::optional<Reply> wait_response(uint64_t id, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto bytes = conn_->receive(std::max(left, std::chrono::milliseconds(1)));
      if (!bytes.ok()) continue;
      Reply reply(std::move(bytes).value());
      if (reply.get().isResponse() && reply.get().getResponse().getId() == id) return reply;
      others.push_back(std::move(reply));
    }
    return std::nullopt;
  }

  // The next non-response message (watch events/control), or nullopt at the deadline.
  std::optional<Reply> next_other(std::chrono::milliseconds timeout) {
    if (!others.empty()) {
      Reply r = std::move(others.front());
      others.erase(others.begin());
      return r;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto bytes = conn_->receive(std::max(left, std::chrono::milliseconds(1)));
      if (!bytes.ok()) continue;
      Reply reply(std::move(bytes).value());
      if (!reply.get().isResponse()) return reply;
    }
    return std::nullopt;
  }

  void send_raw(const std::string& bytes) { conn_->send(bytes); }
  std::optional<Reply> receive_any(std::chrono::milliseconds timeout) {
    auto bytes = conn_->receive(timeout);
    if (!bytes.ok()) return std::nullopt;
    return Reply(std::move(bytes).value());
  }

  std::vector<Reply> others;

 private:
  std::unique_ptr<net::ClientConnection> conn_;
  uint64_t next_id_ = 1;
};

inline auto put(const std::string& key, const std::string& value) {
  return [=](wire::Request::Builder r) {
    auto p = r.initPut();
    p.setKey(as_data(key));
    p.setValue(as_data(value));
  };
}
inline auto get(const std::string& key, const std::string& range_end = {}, bool serializable = false) {
  return [=](wire::Request::Builder r) {
    auto g = r.initRange();
    g.setKey(as_data(key));
    g.setRangeEnd(as_data(range_end));
    g.setSerializable(serializable);
  };
}
inline auto del(const std::string& key, const std::string& range_end = {}) {
  return [=](wire::Request::Builder r) {
    auto d = r.initDeleteRange();
    d.setKey(as_data(key));
    d.setRangeEnd(as_data(range_end));
  };
}

}  // namespace corral::testing
