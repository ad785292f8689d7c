#include "coordinator/server/zap_handler.h"

#include <zmq.h>

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "coordinator/net/socket_options.h"
#include "coordinator/server/log.h"

namespace corral::server {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapVersion = "1.0";
// How often the thread looks at its stop flag while no handshake comes.
constexpr long kPollMs = 100;
// A ZAP request is 7 frames for CURVE (RFC 27); more is not one.
constexpr size_t kMaxRequestFrames = 16;
// Refused handshakes are logged at most this often per second, so that a
// stranger retrying in a loop cannot fill the log.
constexpr int kMaxRefusalLinesPerSecond = 5;

std::string z85_of(const zmq::message_t& raw) {
  if (raw.size() != 32) return {};
  std::array<char, net::kCurveKeyZ85Chars + 1> text{};
  if (!zmq_z85_encode(text.data(), raw.data<uint8_t>(), raw.size())) return {};
  return text.data();
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, CurveAllowLists lists)
    : socket_(context, zmq::socket_type::rep), lists_(std::move(lists)) {}

Result<std::unique_ptr<ZapHandler>> ZapHandler::start(zmq::context_t& context, CurveAllowLists lists) {
  std::unique_ptr<ZapHandler> h(new ZapHandler(context, std::move(lists)));
  try {
    net::set_common_options(h->socket_);
    h->socket_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kUnavailable, std::string("ZAP handler: cannot bind ") + kZapEndpoint + ": " + e.what());
  }
  h->thread_ = std::thread([raw = h.get()] { raw->run(); });
  return h;
}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  socket_.close();
}

void ZapHandler::replace_lists(CurveAllowLists lists) {
  std::lock_guard<std::mutex> lock(mu_);
  lists_ = std::move(lists);
}

void ZapHandler::run() {
  while (!stop_.load()) {
    zmq_pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    const int n = zmq_poll(&item, 1, kPollMs);
    if (n < 0 && zmq_errno() == ETERM) return;
    if (n > 0) answer_one();
  }
}

void ZapHandler::answer_one() {
  std::vector<zmq::message_t> frames;
  zmq::message_t frame;
  bool more = true;
  while (more) {
    if (zmq_msg_recv(frame.handle(), socket_.handle(), ZMQ_DONTWAIT) < 0) return;
    more = frame.more();
    if (frames.size() < kMaxRequestFrames) frames.emplace_back(std::move(frame));
  }
  // RFC 27: version, request id, domain, address, routing id, mechanism,
  // credentials (CURVE: the client's 32-byte public key).
  std::string request_id = frames.size() > 1 ? frames[1].to_string() : std::string();
  std::string status = "400";
  std::string text = "not allowed";
  std::string user;
  std::string address;
  std::string domain;
  std::string key;
  if (frames.size() >= 7 && frames[0].to_string_view() == kZapVersion) {
    domain = frames[2].to_string();
    address = frames[3].to_string();
    key = frames[5].to_string_view() == "CURVE" ? z85_of(frames[6]) : std::string();
    std::optional<std::string> name;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!key.empty() && domain == net::kClientZapDomain) name = lists_.clients.name_of(key);
      if (!key.empty() && domain == net::kPeerZapDomain) name = lists_.peers.name_of(key);
    }
    if (name) {
      status = "200";
      text = "OK";
      user = *name;
    }
  }
  if (status == "200") {
    accepted_.fetch_add(1);
    log_debug("ZAP: %s key %s from %s accepted as '%s'", domain.c_str(), key.c_str(), address.c_str(), user.c_str());
  } else {
    refused_.fetch_add(1);
    static thread_local std::chrono::steady_clock::time_point window;
    static thread_local int lines = 0;
    const auto now = std::chrono::steady_clock::now();
    if (now - window >= std::chrono::seconds(1)) {
      window = now;
      lines = 0;
    }
    if (++lines <= kMaxRefusalLinesPerSecond) {
      log_warn("ZAP: refused %s connection from %s: key %s is not in the %s allow-list", domain.c_str(),
               address.c_str(), key.empty() ? "(none)" : key.c_str(),
               domain == net::kPeerZapDomain ? "peer" : "client");
    }
  }
  const std::string reply[] = {kZapVersion, request_id, status, text, user, ""};
  for (size_t i = 0; i < std::size(reply); ++i) {
    const int flags = i + 1 < std::size(reply) ? ZMQ_SNDMORE : 0;
    if (zmq_send(socket_.handle(), reply[i].data(), reply[i].size(), flags) < 0) return;
  }
}

}  // namespace corral::server
