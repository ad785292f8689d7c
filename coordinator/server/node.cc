// Node: the public face of a member (node.h); the loop it runs on its
// thread is NodeLoop (node_loop.h and the files it lists).
#include "coordinator/server/node.h"

#include "coordinator/base/check.h"
#include "coordinator/server/node_loop.h"

namespace corral::server {

Node::Node(std::unique_ptr<NodeLoop> loop) : loop_(std::move(loop)) {}

Node::~Node() { stop(); }

Result<std::unique_ptr<Node>> Node::create(const NodeOptions& options) {
  auto loop = std::make_unique<NodeLoop>(options);
  auto s = loop->init();
  if (!s.ok()) return s.error();
  return std::unique_ptr<Node>(new Node(std::move(loop)));
}

void Node::start() {
  CORRAL_CHECK(!thread_.joinable());
  thread_ = std::thread([this] {
    loop_->run(stop_requested_);
    finished_.store(true);
  });
}

void Node::stop() {
  stop_requested_.store(true);
  if (loop_) loop_->wake();
  if (thread_.joinable()) thread_.join();
}

uint64_t Node::id() const { return loop_->id(); }

Status Node::reload_curve_allow_lists() { return loop_->reload_curve_allow_lists(); }

std::string Node::client_endpoint() const { return loop_->client_endpoint(); }
const metrics::Registry& Node::metrics() const { return loop_->metrics(); }
std::string Node::peer_endpoint() const { return loop_->peer_endpoint(); }
bool Node::refused_by_cluster() const { return loop_->refused_by_cluster(); }
std::shared_ptr<AuthTokenMinter> Node::token_minter() const { return loop_->token_minter(); }

}  // namespace corral::server
