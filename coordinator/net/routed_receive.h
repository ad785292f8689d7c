// Reading one [routing id][payload] message from a ROUTER socket without
// blocking: the framing shared by the peer and the client sockets.
#pragma once

#include <zmq.hpp>

namespace corral::net {

// Receives one frame without blocking; false if none is waiting.
bool receive_frame(void* socket, zmq::message_t& frame);

enum class RoutedReceive {
  kNothing,    // no message waiting
  kOk,         // id and payload hold one message
  kMalformed,  // no payload frame: every frame was consumed
  kMultipart,  // more than one payload frame: `payload` holds the first, the
               // rest were consumed and dropped
};
// Either way the next call starts at a message boundary.

// With a DEALER sender a ROUTER always delivers exactly [routing id][payload].
RoutedReceive receive_routed(zmq::socket_t& router, zmq::message_t& id, zmq::message_t& payload);

}  // namespace corral::net
