// The member's ZAP handler (ZeroMQ's authentication protocol, RFC 27): a
// thread with a REP socket on inproc://zeromq.zap.01 in the member's
// ZeroMQ context, which libzmq asks at every CURVE handshake on a socket
// with a ZAP domain. It lets a client key in only if the allow-list of
// the socket's domain (net::kClientZapDomain, net::kPeerZapDomain) lists
// it, and answers with the listed name as the connection's User-Id (read
// back per message as net::ClientRequest::user). Every other domain and
// mechanism is refused. The lists can be replaced while it runs (SIGHUP).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/server/curve_setup.h"

namespace corral::server {

class ZapHandler {
 public:
  // Binds the handler's socket (before any CURVE socket is bound) and
  // starts its thread. kUnavailable if another handler holds the address.
  static Result<std::unique_ptr<ZapHandler>> start(zmq::context_t& context, CurveAllowLists lists);
  ~ZapHandler();  // stops and joins
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  void replace_lists(CurveAllowLists lists);
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  ZapHandler(zmq::context_t& context, CurveAllowLists lists);
  void run();
  void answer_one();

  zmq::socket_t socket_;
  std::mutex mu_;
  CurveAllowLists lists_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace corral::server
