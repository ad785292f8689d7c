// A scripted stand-in for a corrald member in client tests: a client
// listener on 127.0.0.1 (ephemeral port) in its own thread, answering each
// decoded Request with whatever the test's handler builds. Not a server: no
// state. It speaks the wire test_wire() names (CORRAL_TEST_CLIENT_WIRE=zmq:
// a ZeroMQ ROUTER; else plain TCP, net/tcp_client_listener.h), and so do
// the clients the tests make (Options::wire = test_wire()): ctest runs the
// client tests once on each.
// The client's liveness probes (a serializable count-only range) are
// answered here, unseen by the handler and by requests(), unless the member
// is made with Probes::kIgnore (a hung member answers nothing).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "coordinator/net/poller.h"
#include "coordinator/net/tcp_client_listener.h"
#include "schema/api.capnp.h"

namespace corral::client::testing {

namespace api = corral::schema::api;

inline std::string flat_bytes(capnp::MessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto b = words.asBytes();
  return std::string(reinterpret_cast<const char*>(b.begin()), b.size());
}

// The wire of this run: CORRAL_TEST_CLIENT_WIRE=zmq, else TCP.
inline corral::net::ClientWire test_wire() {
  const char* w = std::getenv("CORRAL_TEST_CLIENT_WIRE");
  return w != nullptr && std::string(w) == "zmq" ? corral::net::ClientWire::kZmq : corral::net::ClientWire::kTcp;
}

class FakeMember {
 public:
  // handler(request, reply): fill `reply` messages (each a ServerMessage) to send back.
  using Handler = std::function<void(api::Request::Reader, std::vector<std::string>& replies)>;

  enum class Probes { kAnswer, kIgnore };

  explicit FakeMember(Handler handler, Probes probes = Probes::kAnswer)
      : handler_(std::move(handler)), probes_(probes), router_(ctx_, zmq::socket_type::router) {
    if (test_wire() == corral::net::ClientWire::kTcp) {
      corral::net::ClientListenerOptions o;
      o.bind_endpoint = "tcp://127.0.0.1:0";
      o.max_queued_replies_per_connection = 1 << 20;  // a burst of replies must all arrive
      tcp_ = std::move(corral::net::TcpClientListener::create(o)).value();
      endpoint_ = tcp_->bound_endpoint().to_zmq();
      router_.close();
      thread_ = std::thread([this] { run_tcp(); });
      return;
    }
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::sndhwm, 0);  // a burst of replies must all arrive
    router_.bind("tcp://127.0.0.1:0");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeMember() { stop(); }

  // Closes the socket: the client sees its connection drop.
  void stop() {
    if (stopped_.exchange(true)) return;
    thread_.join();
    router_.close();
    tcp_.reset();
  }
  const std::string& endpoint() const { return endpoint_; }
  int requests() const { return requests_.load(); }
  int probes() const { return probes_seen_.load(); }
  // From now on, probes are answered (kAnswer) or left unanswered (kIgnore).
  void set_probes(Probes probes) { probes_.store(probes); }
  // Sends an unsolicited message (watch events) to the last peer seen.
  void push(std::string bytes) {
    std::lock_guard lock(mu_);
    pushes_.push_back(std::move(bytes));
  }

 private:
  void run_tcp() {
    auto poller = std::move(corral::net::Poller::create()).value();
    const size_t slot = tcp_->watch_with(*poller);
    std::vector<corral::net::ClientRequest> in;
    while (!stopped_.load()) {
      {
        std::lock_guard lock(mu_);
        if (!peer_.empty()) {
          for (auto& b : pushes_) (void)tcp_->send(corral::net::ConnectionId{peer_}, b);
          pushes_.clear();
        }
      }
      tcp_->drained() ? poller->drained(slot) : poller->used(slot);
      (void)poller->wait(std::chrono::milliseconds(10));
      in.clear();
      tcp_->receive(64, in);
      for (auto& req : in) {
        {
          std::lock_guard lock(mu_);
          peer_ = req.connection.routing_id;
        }
        for (auto& r : answer(req.payload)) (void)tcp_->send(req.connection, r);
      }
    }
  }
  // The replies to one request (none to a probe left unanswered).
  std::vector<std::string> answer(const std::string& body) {
    kj::Array<capnp::word> words = kj::heapArray<capnp::word>(body.size() / 8);
    memcpy(words.begin(), body.data(), words.size() * 8);
    capnp::FlatArrayMessageReader reader(words.asPtr());
    std::vector<std::string> replies;
    api::Request::Reader request = reader.getRoot<api::Request>();
    if (is_probe(request)) {
      ++probes_seen_;
      if (probes_.load() == Probes::kAnswer) replies.push_back(probe_answer(request.getId()));
      return replies;
    }
    ++requests_;
    handler_(request, replies);
    return replies;
  }
  void run() {
    while (!stopped_.load()) {
      {
        std::lock_guard lock(mu_);
        if (!peer_.empty()) {
          for (auto& b : pushes_) send(peer_, b);
          pushes_.clear();
        }
      }
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(10));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t id, body;
      if (!router_.recv(id, zmq::recv_flags::dontwait)) continue;
      if (!router_.recv(body, zmq::recv_flags::dontwait)) continue;
      {
        std::lock_guard lock(mu_);
        peer_ = id.to_string();
      }
      for (auto& r : answer(body.to_string())) send(id.to_string(), r);
    }
  }
  static bool is_probe(api::Request::Reader r) {
    return r.which() == api::Request::RANGE && r.getRange().getSerializable() &&
           r.getRange().getCountOnly();
  }
  static std::string probe_answer(uint64_t id) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<api::ServerMessage>().initResponse();
    r.setId(id);
    r.initRange();
    return flat_bytes(m);
  }
  void send(const std::string& peer, const std::string& bytes) {
    router_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
    router_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }

  Handler handler_;
  std::atomic<Probes> probes_;
  zmq::context_t ctx_{1};
  zmq::socket_t router_;
  std::unique_ptr<corral::net::TcpClientListener> tcp_;  // the TCP wire
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> probes_seen_{0};
  std::mutex mu_;
  std::string peer_;
  std::vector<std::string> pushes_;
};

// Waits for `cond` up to `deadline_ms`, checking every millisecond.
inline bool wait_for(const std::function<bool()>& cond, int deadline_ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

}  // namespace corral::client::testing
