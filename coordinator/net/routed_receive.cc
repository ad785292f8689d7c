#include "coordinator/net/routed_receive.h"

#include <zmq.h>

namespace corral::net {

bool receive_frame(void* socket, zmq::message_t& frame) {
  return zmq_msg_recv(frame.handle(), socket, ZMQ_DONTWAIT) >= 0;
}

RoutedReceive receive_routed(zmq::socket_t& router, zmq::message_t& id, zmq::message_t& payload) {
  if (!receive_frame(router.handle(), id)) return RoutedReceive::kNothing;
  bool well_formed = id.more() && receive_frame(router.handle(), payload);
  if (well_formed && payload.more()) {
    well_formed = false;
    zmq::message_t rest;
    while (payload.more() && receive_frame(router.handle(), rest)) payload.move(rest);
  }
  return well_formed ? RoutedReceive::kOk : RoutedReceive::kMalformed;
}

}  // namespace corral::net
