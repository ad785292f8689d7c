#include "coordinator/net/routed_receive.h"

#include <zmq.h>

namespace corral::net {

bool receive_frame(void* socket, zmq::message_t& frame) {
  return zmq_msg_recv(frame.handle(), socket, ZMQ_DONTWAIT) >= 0;
}

RoutedReceive receive_routed(zmq::socket_t& router, zmq::message_t& id, zmq::message_t& payload) {
  if (!receive_frame(router.handle(), id)) return RoutedReceive::kNothing;
  if (!id.more() || !receive_frame(router.handle(), payload)) return RoutedReceive::kMalformed;
  if (!payload.more()) return RoutedReceive::kOk;
  zmq::message_t rest;
  bool more = true;
  while (more && receive_frame(router.handle(), rest)) more = rest.more();
  return RoutedReceive::kMultipart;
}

}  // namespace corral::net
