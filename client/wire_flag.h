// The --client-wire flag shared by corralctl, corral-agent and corral-bench:
// auto (ZeroMQ when CURVE keys are given, else plain TCP), tcp or zmq; it
// must match the members' --client-wire.
#pragma once

#include <string>

#include "client/client.h"

namespace corral::client {

inline constexpr const char* kClientWireFlagHelp =
    "wire to the members: auto (zmq with CURVE keys, else tcp), tcp or zmq; as the members' --client-wire";

// Sets options.wire; an empty string when done, else what is wrong.
std::string apply_wire_flag(const std::string& text, Options& options);

}  // namespace corral::client
