// The client listener on plain TCP (ClientWire::kTcp): the owner's thread
// accepts, reads and writes every connection itself, through one epoll fd
// that the Poller watches (frame_stream.h says why no library thread sits
// in between). One frame per request and per reply (frame_stream.h's
// framing); an empty frame is a heartbeat, answered at once with an empty
// frame and never delivered (client_connection.h: the client's liveness
// check of a member it is connected to).
//
// How it holds the bounds of client_listener.h:
//  - max_request_bytes: a bigger length prefix closes the connection.
//  - max_queued_replies_per_connection and
//    max_queued_reply_bytes_per_connection bound the frames queued for a
//    connection whose socket is full (kBackpressure past either); a client
//    that never reads holds at most that, then the kernel's buffers.
//  - max_queued_requests_per_connection: frames read and not yet taken per
//    connection; past it that connection is not read (TCP holds it back).
//  - max_connections: a connection past it is closed as soon as accepted.
//    Out of file descriptors (accept says EMFILE), the listening socket is
//    left unwatched for kAcceptPauseMs (it would stay readable and spin
//    the loop); the kernel's backlog holds the clients meanwhile.
// Between hold_writes() and release_writes() (a loop turn) replies are
// queued, within the same bounds, and each connection's go out in one
// writev at the release: at 1000 clients a reply each per turn would
// otherwise be one sendmsg each on the loop's thread.
// A connection that sent nothing (not even a heartbeat) for
// silence_timeout_ms is closed, looked for once a second.
// A connection that closes (or fails, or sends too large a frame) is
// forgotten once what it sent before is taken: a send to it says kGone.
// ConnectionIds are made from a serial, never reused.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>

#include "coordinator/net/client_listener.h"
#include "coordinator/net/frame_stream.h"

namespace corral::net {

inline constexpr int kAcceptPauseMs = 100;

class TcpClientListener final : public ClientListener {
 public:
  static Result<std::unique_ptr<TcpClientListener>> create(const ClientListenerOptions& options);
  ~TcpClientListener() override;

  size_t receive(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out) override;
  using ClientListener::receive;
  ClientSendResult send(const ConnectionId& connection, std::string_view bytes) override;
  ClientSendResult send_counted(const ConnectionId& connection, std::string& bytes,
                                const QueuedBytes& queued) override;
  int64_t queued_bytes_total() const override { return queued_total_; }
  void hold_writes() override { holding_ = true; }
  void release_writes() override;
  void maintain(std::chrono::steady_clock::time_point now) override;
  size_t watch_with(Poller& poller) override;

  // Connections open (and closed ones whose requests are not all taken); for tests.
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn {
    std::unique_ptr<FrameStream> stream;
    uint64_t serial = 0;
    bool watching_write = false;
    bool in_ready = false;  // listed in ready_
    bool dead = false;      // closed; kept until its frames are taken
    bool held = false;      // its writes wait for release_writes()
    std::chrono::steady_clock::time_point last_received;
  };

  TcpClientListener(const ClientListenerOptions& options, int listen_fd, int epoll_fd);
  FrameStreamLimits stream_limits() const;
  void accept_all();
  void on_event(Conn& conn, uint32_t events);
  void read(Conn& conn);
  // The connection failed or ended: stop watching it; forget it once its
  // frames are taken.
  void kill(Conn& conn);
  void forget(uint64_t serial);
  void close_silent(std::chrono::steady_clock::time_point now);
  Conn* find(const ConnectionId& connection);
  ClientSendResult after_send(Conn& conn, FrameSendResult result, size_t queued_before);
  void hold(Conn& conn);
  void keep_write_watch(Conn& conn);
  // Takes frames from ready connections, round-robin.
  size_t deliver(size_t max_requests, size_t max_bytes, std::vector<ClientRequest>& out);

  ClientListenerOptions options_;
  int listen_fd_;
  int epoll_fd_;
  uint64_t next_serial_ = 1;  // 0 is the listening socket
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::deque<uint64_t> ready_;  // connections holding frames read and not taken
  int64_t queued_total_ = 0;
  bool events_left_ = false;  // the last receive() stopped before epoll said no more
  bool holding_ = false;
  bool accept_paused_ = false;
  std::chrono::steady_clock::time_point accept_resume_at_{};
  std::chrono::steady_clock::time_point now_{};  // of the current receive()
  std::chrono::steady_clock::time_point next_silence_check_{};
  std::vector<uint64_t> held_;  // connections with writes held
  std::vector<uint64_t> silent_;  // close_silent's scratch
  std::string scratch_;
};

// The ConnectionId of a TCP connection's serial, and back (0: not one).
ConnectionId tcp_connection_id(uint64_t serial);
uint64_t tcp_connection_serial(const ConnectionId& connection);

}  // namespace corral::net
