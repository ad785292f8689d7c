#include "client/wire_flag.h"

namespace corral::client {

std::string apply_wire_flag(const std::string& text, Options& options) {
  if (text == "auto" || text.empty()) {
    options.wire = net::ClientWire::kAuto;
  } else if (text == "tcp") {
    options.wire = net::ClientWire::kTcp;
  } else if (text == "zmq") {
    options.wire = net::ClientWire::kZmq;
  } else {
    return "--client-wire '" + text + "': expected auto, tcp or zmq";
  }
  return {};
}

}  // namespace corral::client
