// The peer wire on plain TCP (PeerWire::kTcp): the node loop's own thread
// connects, writes and reads; no library thread sits between it and the
// kernel (frame_stream.h says why that matters).
//
// Connections. Each member connects out to every peer and sends on that
// connection only; it receives on the connections its peers opened to it.
// A connection starts with a hello frame from the side that opened it:
//   "CRLP", version 1 (1 byte), node id (8 bytes big-endian),
//   cluster id (8 bytes big-endian; 0 before the member knows it)
// so every message received says who sent it and which cluster it claims,
// at no cost per message. The side that accepted answers with an empty
// frame (its welcome); only then does the opener count the link up and send
// on it, as ZeroMQ counts a link up after its handshake: a port whose
// process is stopped still completes TCP's handshake, and messages must
// not pile up for it. The claim is not a proof (no CURVE on this wire);
// the server binds it to the member table (server/peer_identity_gate.h,
// server/cluster_id_gate.h). A second connection naming the same node id
// replaces the first (a restarted peer is heard at once).
//
// Liveness. Both sides send an empty frame on a connection that sent
// nothing for heartbeat_interval_ms, and drop one that received nothing for
// heartbeat_timeout_ms (a dead or partitioned host). A dropped or refused
// outbound connection is tried again after reconnect_interval_ms, doubling
// up to reconnect_interval_max_ms; the first try after a drop is at once,
// and so is one after the peer's own connection to us said hello.
//
// Bounds: frames queued per peer (max_queued_messages_per_peer, and
// max_message_bytes in bytes), frames read and not yet delivered per
// connection (max_inbound_queued_messages_per_peer), one frame's size
// (max_message_bytes: a bigger one drops the connection; the first frame
// on an inbound connection kTcpHelloBytes), connections that
// have not said hello (kMaxUnnamedInbound, each for heartbeat_timeout_ms at
// most; past the bound a new one closes the oldest), connections whose
// hello names a node that is not a peer here (kMaxUnknownInbound: a member
// being added that this one has not applied yet, or made-up ids; past the
// bound a new one closes the oldest, so made-up ids never keep a member
// out) and inbound connections in all (kMaxInbound). The ids are claims:
// a client that names a member's id takes that member's place until the
// member reconnects (use the zmq wire with CURVE where that matters).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coordinator/net/frame_stream.h"
#include "coordinator/net/peer_transport.h"

namespace corral::net {

inline constexpr size_t kTcpHelloBytes = 21;
inline constexpr size_t kMaxUnnamedInbound = 64;
inline constexpr size_t kMaxUnknownInbound = 16;
inline constexpr size_t kMaxInbound = 256;

// The hello frame a member with this id sends (format above).
std::string tcp_peer_hello(PeerId id, uint64_t cluster_id);
// The node id in a hello frame, 0 if it is not one; `cluster_id` gets its cluster id.
PeerId parse_tcp_peer_hello(std::string_view frame, uint64_t* cluster_id);
// The hello version in a connection's first bytes (length prefix, "CRLP",
// version), whatever the version and the frame's length; nullopt if they
// are not a hello. A hello of another version is refused, and reported.
std::optional<uint8_t> tcp_peer_hello_version(std::string_view opening);

class TcpPeerTransport final : public PeerTransport {
 public:
  // Binds and listens. kBadRequest for bad options (CURVE among them),
  // kUnavailable if the endpoint cannot be bound.
  static Result<std::unique_ptr<TcpPeerTransport>> create(const PeerTransportOptions& options);
  ~TcpPeerTransport() override;
  TcpPeerTransport(const TcpPeerTransport&) = delete;
  TcpPeerTransport& operator=(const TcpPeerTransport&) = delete;

  Status add_peer(PeerId id, std::string_view endpoint,
                  std::optional<std::string> curve_public_key = std::nullopt) override;
  Status remove_peer(PeerId id) override;
  bool has_peer(PeerId id) const override { return peers_.count(id) != 0; }
  std::vector<PeerId> peer_ids() const override { return ids_of(peers_); }
  bool connected(PeerId id) override;
  std::vector<PeerId> take_lost_connections() override;

  PeerSendResult send(PeerId to, std::string_view bytes) override;
  PeerSendResult send_counted(PeerId to, std::string& bytes, const PeerQueuedBytes& queued) override;

  size_t receive(size_t max_messages, std::vector<PeerMessage>& out) override;
  bool inbound_drained() const override { return inbound_drained_; }
  size_t watch_with(Poller& poller) override;
  void maintain(std::chrono::steady_clock::time_point now) override;

  // How many inbound connections are open (named or not); for tests.
  size_t inbound_connections() const { return inbound_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Outbound;
  struct Inbound;

  TcpPeerTransport(const PeerTransportOptions& options, int listen_fd, int epoll_fd);
  FrameStreamLimits stream_limits() const;
  uint64_t watch(int fd, bool want_write);
  void rewatch(int fd, uint64_t serial, bool want_write);
  void unwatch(int fd, uint64_t serial);

  void connect(Outbound& peer, Clock::time_point now);
  void greet(Outbound& peer, Clock::time_point now);
  void up(Outbound& peer, Clock::time_point now);
  void drop(Outbound& peer, Clock::time_point now);
  void on_outbound_event(Outbound& peer, uint32_t events, Clock::time_point now);
  // Reads the heartbeats on our own connection; false: it is dead.
  bool read_outbound(Outbound& peer, Clock::time_point now);
  PeerSendResult after_send(Outbound& peer, FrameSendResult result);
  void accept_all(Clock::time_point now);
  void on_inbound_event(Inbound& conn, uint32_t events, Clock::time_point now);
  // False: the connection is dead (the caller closes it).
  bool take_hello(Inbound& conn, Clock::time_point now);
  // A connection refused for its first frame: if that was another wire's
  // greeting or another version's hello, a PeerWireTrouble.
  void note_first_bytes(const Inbound& conn);
  void close_inbound(uint64_t serial);
  void close_oldest_unnamed();
  void close_oldest_unknown(uint64_t except_serial);
  void keep_write_watch(int fd, uint64_t serial, const FrameStream& stream, bool& watching_write);

  int listen_fd_;
  int epoll_fd_;
  uint64_t listen_serial_ = 0;
  std::optional<Clock::time_point> listen_paused_until_;  // accept failed for want of fds
  uint64_t next_serial_ = 1;
  std::map<PeerId, std::unique_ptr<Outbound>> peers_;
  std::unordered_map<uint64_t, Outbound*> outbound_by_serial_;
  std::map<uint64_t, std::unique_ptr<Inbound>> inbound_;  // by serial
  std::map<PeerId, uint64_t> inbound_by_peer_;            // named ones
  size_t unnamed_inbound_ = 0;
  size_t unknown_inbound_ = 0;  // named, but not by a peer of ours
  uint64_t next_delivery_from_ = 0;  // round-robin position over inbound_
  bool inbound_drained_ = true;
  std::vector<PeerId> lost_;
  std::string scratch_;
  std::vector<uint64_t> serials_;  // maintain's scratch
};

}  // namespace corral::net
