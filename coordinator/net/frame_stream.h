// One TCP connection carrying length-prefixed frames, without a library
// thread in between: the owner's thread writes to the socket itself and
// reads what the kernel holds. Frame = 4-byte big-endian length, then that
// many bytes (0 is a valid, empty frame). Not thread-safe; non-blocking.
//
// Why not ZeroMQ here: a ZeroMQ message crosses to the library's I/O thread
// on the way out and from it on the way in, two thread wake-ups per hop on
// top of the kernel's. On this machine a loopback round trip took 108 us
// through ZeroMQ and 16 us on a plain socket (bench/RESULTS.md, session 24).
//
// Bounds: frames queued for writing are bounded in count and bytes (a
// send that would take the queue past either says kBackpressure and queues
// nothing; an empty queue takes one frame of any size); a frame read is
// at most max_frame_bytes (a bigger length prefix closes the connection,
// as ZMQ_MAXMSGSIZE did); frames read and not yet taken are at most
// max_read_frames and max_read_bytes, past which read_some() stops reading
// (TCP then holds the sender back); the read buffer grows with the bytes
// that came (at most twofold per read), not with what a length prefix claims.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace corral::net {

inline constexpr size_t kFrameHeaderBytes = 4;

struct FrameStreamLimits {
  size_t max_frame_bytes = 64u << 20;
  size_t max_queued_frames = 4096;
  size_t max_queued_bytes = 64u << 20;
  size_t max_read_frames = 4096;
  // Bytes of the frames read and not yet taken (a frame bigger than this
  // comes out alone).
  size_t max_read_bytes = 64u << 20;
  // A lower bound for the first frame read (0: max_frame_bytes): a
  // connection that must open with a small frame (a hello) is held to it
  // before anything is buffered for a bigger one.
  size_t max_first_frame_bytes = 0;
};

// Bytes of counted frames queued and not yet written to the kernel; shared
// so that the one who queued them can pace itself on it.
using FrameQueuedBytes = std::shared_ptr<std::atomic<int64_t>>;

enum class FrameSendResult : uint8_t {
  kSent,          // written, or queued whole
  kBackpressure,  // the queue is at a bound; nothing queued
  kFailed,        // the connection failed (now or before); it is dead
};

enum class FrameReadResult : uint8_t {
  kOk,        // read what was there (maybe nothing) or stopped at the bound
  kClosed,    // end of stream or an error: the connection is dead
  kTooLarge,  // a length prefix past max_frame_bytes: the connection is dead
};

// Whether `opening`, a connection's first bytes, is a ZeroMQ (ZMTP 2/3)
// greeting: 0xFF, eight bytes, then 0x7F. A frame stream never starts with
// 0xFF (a length of 4 GiB or more), so with fewer than ten bytes 0xFF
// alone counts.
bool looks_like_zmtp(std::string_view opening);

class FrameStream {
 public:
  // Takes the connected (or connecting) socket; closes it when destroyed.
  FrameStream(int fd, const FrameStreamLimits& limits);
  ~FrameStream();
  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  int fd() const { return fd_; }
  bool failed() const { return failed_; }

  // Writes at once when nothing is queued (the common case), else queues.
  // With `counted`, the frame's bytes are added to it until written; the
  // rvalue frame is emptied only when the result is kSent.
  FrameSendResult send(std::string_view frame);
  FrameSendResult send(std::string&& frame, const FrameQueuedBytes& counted);
  // Writes what is queued, as far as the kernel takes it. False: failed.
  bool flush();
  // Held: send() only queues (bounds as usual), so that frames made in one
  // loop turn go out together in one write at the next flush(); the owner
  // flushes when it lets go. Not held (the default): a send writes at once.
  void set_held(bool held) { held_ = held; }
  bool wants_write() const { return !queue_.empty(); }
  size_t queued_frames() const { return queue_.size(); }
  // Bytes queued and not yet written (headers included).
  size_t queued_bytes() const { return queued_bytes_; }

  // Reads what the kernel holds, up to the bounds on frames held here.
  FrameReadResult read_some();
  // The oldest whole frame read, if any.
  bool next_frame(std::string& out);
  size_t frames_ready() const { return ready_.size(); }
  // Bytes read from the socket so far: whether anything came, for liveness.
  uint64_t bytes_read() const { return bytes_read_; }
  // The first bytes the stream read (up to kOpeningBytes), kept after they
  // are parsed: to tell what the other side speaks when it is not frames
  // (looks_like_zmtp).
  static constexpr size_t kOpeningBytes = 16;
  std::string_view opening() const { return std::string_view(opening_.data(), opening_size_); }

 private:
  struct Queued {
    std::string bytes;  // header and frame
    size_t written = 0;
    FrameQueuedBytes counted;
  };
  FrameSendResult enqueue(std::string&& whole, const FrameQueuedBytes& counted);
  bool room_for(size_t whole_bytes) const;
  void parse();
  // Whether a whole frame waits in the read buffer (held back by a bound).
  bool whole_frame_buffered() const;
  void fail();

  int fd_;
  FrameStreamLimits limits_;
  bool failed_ = false;
  bool held_ = false;
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  std::string in_;        // read buffer: [in_start_, in_end_) not yet parsed
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  bool too_large_ = false;
  bool first_frame_read_ = false;
  uint64_t bytes_read_ = 0;
  std::array<char, kOpeningBytes> opening_{};
  size_t opening_size_ = 0;
  std::deque<std::string> ready_;
  size_t ready_bytes_ = 0;
};

}  // namespace corral::net
