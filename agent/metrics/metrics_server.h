// A tiny HTTP/1.1 server (Boost.Beast) for Prometheus scrapes of the agent:
// GET /metrics answers the registry's text; any other path 404, any other
// method 405. One thread of its own (the agent is its own process), at most
// kMaxConnections at once (more are closed at once), kRequestTimeout per
// connection, request heads bounded to kMaxRequestBytes, no request body.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "coordinator/metrics/registry.h"

namespace corral::agent {

class MetricsServer {
 public:
  static constexpr size_t kMaxConnections = 16;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr std::chrono::seconds kRequestTimeout{5};

  // Binds IP:PORT (port 0 picks one) and starts serving. Errors: a message
  // naming the address (bad address, port in use).
  static std::unique_ptr<MetricsServer> start(const std::string& ip_port, const metrics::Registry& registry,
                                              std::string& error);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // IP:PORT as bound.
  std::string bound() const;

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace corral::agent
