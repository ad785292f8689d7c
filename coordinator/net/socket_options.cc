#include "coordinator/net/socket_options.h"

#include <zmq.h>

#include "coordinator/base/check.h"

namespace corral::net {
namespace {

Error zmq_failure(ErrorCode code, std::string what, const zmq::error_t& e) {
  return make_error(code, std::move(what) + ": " + e.what());
}

Status check_key(std::string_view key, const char* name) {
  if (key.size() != kCurveKeyZ85Chars) {
    return make_error(ErrorCode::kBadRequest, std::string("CURVE ") + name + " must be " +
                                                  std::to_string(kCurveKeyZ85Chars) +
                                                  " Z85 characters");
  }
  return {};
}

}  // namespace

bool curve_available() { return zmq_has("curve") == 1; }

Result<CurveKeyPair> generate_curve_keypair() {
  char public_key[kCurveKeyZ85Chars + 1] = {};
  char secret_key[kCurveKeyZ85Chars + 1] = {};
  if (!curve_available() || zmq_curve_keypair(public_key, secret_key) != 0) {
    return make_error(ErrorCode::kUnavailable, "libzmq has no CURVE support");
  }
  return CurveKeyPair{public_key, secret_key};
}

void set_common_options(zmq::socket_t& socket) { socket.set(zmq::sockopt::linger, 0); }

Status set_curve_server(zmq::socket_t& socket, const CurveServerKeys& keys) {
  if (!curve_available()) return make_error(ErrorCode::kUnavailable, "libzmq has no CURVE");
  if (Status s = check_key(keys.own.secret_key, "secret key"); !s.ok()) return s;
  try {
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
    if (!keys.zap_domain.empty()) socket.set(zmq::sockopt::zap_domain, keys.zap_domain);
  } catch (const zmq::error_t& e) {
    return zmq_failure(ErrorCode::kBadRequest, "CURVE server keys rejected", e);
  }
  return {};
}

Status set_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys) {
  if (!curve_available()) return make_error(ErrorCode::kUnavailable, "libzmq has no CURVE");
  for (const auto& [key, name] : {std::pair{&keys.own.public_key, "public key"},
                                  std::pair{&keys.own.secret_key, "secret key"},
                                  std::pair{&keys.server_public_key, "server public key"}}) {
    if (Status s = check_key(*key, name); !s.ok()) return s;
  }
  try {
    socket.set(zmq::sockopt::curve_serverkey, keys.server_public_key);
    socket.set(zmq::sockopt::curve_publickey, keys.own.public_key);
    socket.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
  } catch (const zmq::error_t& e) {
    return zmq_failure(ErrorCode::kBadRequest, "CURVE client keys rejected", e);
  }
  return {};
}

Result<Endpoint> bind_and_read_back(zmq::socket_t& socket, const Endpoint& endpoint) {
  std::string bound;
  try {
    if (endpoint.ipv6) socket.set(zmq::sockopt::ipv6, true);
    socket.bind(endpoint.to_zmq());
    bound = socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return zmq_failure(ErrorCode::kUnavailable, "cannot bind " + endpoint.to_zmq(), e);
  }
  Result<Endpoint> parsed = parse_endpoint(bound, EndpointUse::kConnect);
  CORRAL_CHECK_MSG(parsed.ok(), bound.c_str());  // ZeroMQ reports what it bound
  return parsed;
}

Status connect_to(zmq::socket_t& socket, const Endpoint& endpoint) {
  if (endpoint.port == 0) {
    return make_error(ErrorCode::kBadRequest, "cannot connect to port 0");
  }
  try {
    if (endpoint.ipv6) socket.set(zmq::sockopt::ipv6, true);
    socket.connect(endpoint.to_zmq());
  } catch (const zmq::error_t& e) {
    return zmq_failure(ErrorCode::kUnavailable, "cannot connect " + endpoint.to_zmq(), e);
  }
  return {};
}

}  // namespace corral::net
