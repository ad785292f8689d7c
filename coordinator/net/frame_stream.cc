#include "coordinator/net/frame_stream.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace corral::net {
namespace {

// Bytes asked of the kernel per read(2), unless a frame in progress needs more.
constexpr size_t kReadChunkBytes = 64u << 10;
// Bytes read per read_some() call at most, so that one busy connection
// cannot hold its reader for long (the rest is read on the next call).
constexpr size_t kMaxReadPerCallBytes = 8u << 20;
// Frames written per sendmsg(2) at most.
constexpr size_t kMaxFramesPerWrite = 64;

void put_length(char* at, uint32_t n) {
  at[0] = static_cast<char>(n >> 24);
  at[1] = static_cast<char>(n >> 16);
  at[2] = static_cast<char>(n >> 8);
  at[3] = static_cast<char>(n);
}

uint32_t get_length(const char* at) {
  const auto* u = reinterpret_cast<const unsigned char*>(at);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

// sendmsg with MSG_NOSIGNAL: a peer gone away is an EPIPE, not a SIGPIPE.
// Returns bytes written, 0 when the kernel takes nothing now, -1 on error.
ssize_t write_vector(int fd, iovec* iov, size_t count) {
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  while (true) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

}  // namespace

bool looks_like_zmtp(std::string_view opening) {
  if (opening.empty() || static_cast<uint8_t>(opening[0]) != 0xFF) return false;
  return opening.size() < 10 || static_cast<uint8_t>(opening[9]) == 0x7F;
}

FrameStream::FrameStream(int fd, const FrameStreamLimits& limits) : fd_(fd), limits_(limits) {}

FrameStream::~FrameStream() {
  fail();
  if (fd_ >= 0) ::close(fd_);
}

void FrameStream::fail() {
  failed_ = true;
  for (auto& q : queue_) {
    if (q.counted) q.counted->fetch_sub(static_cast<int64_t>(q.bytes.size() - kFrameHeaderBytes), std::memory_order_relaxed);
  }
  queue_.clear();
  queued_bytes_ = 0;
}

// The queue takes a frame only if it stays within both bounds once it is
// in (an empty queue takes any frame: a frame is at most max_frame_bytes).
bool FrameStream::room_for(size_t whole_bytes) const {
  return queue_.size() < limits_.max_queued_frames && queued_bytes_ + whole_bytes <= limits_.max_queued_bytes;
}

FrameSendResult FrameStream::send(std::string_view frame) {
  if (failed_) return FrameSendResult::kFailed;
  char header[kFrameHeaderBytes];
  put_length(header, static_cast<uint32_t>(frame.size()));
  size_t written = 0;
  if (queue_.empty() && !held_) {
    iovec iov[2] = {{header, kFrameHeaderBytes}, {const_cast<char*>(frame.data()), frame.size()}};
    const ssize_t n = write_vector(fd_, iov, 2);
    if (n < 0) {
      fail();
      return FrameSendResult::kFailed;
    }
    written = static_cast<size_t>(n);
    if (written == kFrameHeaderBytes + frame.size()) return FrameSendResult::kSent;
  } else if (!room_for(kFrameHeaderBytes + frame.size())) {
    return FrameSendResult::kBackpressure;
  }
  std::string whole;
  whole.reserve(kFrameHeaderBytes + frame.size());
  whole.append(header, kFrameHeaderBytes).append(frame);
  queued_bytes_ += whole.size();
  queue_.push_back(Queued{std::move(whole), written, nullptr});
  return FrameSendResult::kSent;
}

FrameSendResult FrameStream::send(std::string&& frame, const FrameQueuedBytes& counted) {
  if (failed_) return FrameSendResult::kFailed;
  if (!queue_.empty() && !room_for(kFrameHeaderBytes + frame.size())) return FrameSendResult::kBackpressure;
  // One buffer, header first: a counted frame is a large one (a snapshot
  // chunk) and mostly queued behind others, where it has to be whole.
  std::string whole;
  whole.reserve(kFrameHeaderBytes + frame.size());
  whole.resize(kFrameHeaderBytes);
  put_length(whole.data(), static_cast<uint32_t>(frame.size()));
  whole.append(frame);
  if (counted) counted->fetch_add(static_cast<int64_t>(whole.size() - kFrameHeaderBytes), std::memory_order_relaxed);
  queued_bytes_ += whole.size();
  queue_.push_back(Queued{std::move(whole), 0, counted});
  if (queue_.size() == 1 && !held_ && !flush()) return FrameSendResult::kFailed;  // `frame` left as it was
  frame.clear();
  return FrameSendResult::kSent;
}

bool FrameStream::flush() {
  if (failed_) return false;
  while (!queue_.empty()) {
    iovec iov[kMaxFramesPerWrite];
    size_t count = 0;
    for (auto it = queue_.begin(); it != queue_.end() && count < kMaxFramesPerWrite; ++it, ++count) {
      iov[count].iov_base = it->bytes.data() + it->written;
      iov[count].iov_len = it->bytes.size() - it->written;
    }
    const ssize_t n = write_vector(fd_, iov, count);
    if (n < 0) {
      fail();
      return false;
    }
    if (n == 0) return true;
    auto left = static_cast<size_t>(n);
    while (left > 0) {
      Queued& q = queue_.front();
      const size_t take = std::min(left, q.bytes.size() - q.written);
      q.written += take;
      left -= take;
      if (q.written == q.bytes.size()) {
        if (q.counted) q.counted->fetch_sub(static_cast<int64_t>(q.bytes.size() - kFrameHeaderBytes), std::memory_order_relaxed);
        queued_bytes_ -= q.bytes.size();
        queue_.pop_front();
      }
    }
  }
  return true;
}

FrameReadResult FrameStream::read_some() {
  if (too_large_) return FrameReadResult::kTooLarge;
  if (failed_) return FrameReadResult::kClosed;
  size_t read_this_call = 0;
  while (ready_.size() < limits_.max_read_frames && ready_bytes_ < limits_.max_read_bytes &&
         !whole_frame_buffered() && read_this_call < kMaxReadPerCallBytes) {
    // Keep the unparsed tail at the front, so the buffer does not grow
    // with the stream; give back the room a large frame took once it is out.
    if (in_start_ == in_end_ && in_.size() > kReadChunkBytes * 4) in_ = std::string();
    if (in_start_ > 0) {
      std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    size_t want = kReadChunkBytes;
    if (in_end_ >= kFrameHeaderBytes) {
      // Room for the rest of the frame, but the buffer at most doubles per
      // read: memory follows the bytes that came, not what a prefix claims.
      const size_t frame_end = kFrameHeaderBytes + get_length(in_.data());
      const size_t growth = std::max(in_end_, in_.size() - in_end_);
      if (frame_end > in_end_) want = std::max(want, std::min(frame_end - in_end_, growth));
    }
    if (in_.size() < in_end_ + want) in_.resize(in_end_ + want);  // grows only: each byte zeroed once
    const ssize_t n = ::read(fd_, in_.data() + in_end_, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return FrameReadResult::kOk;
      fail();
      return FrameReadResult::kClosed;
    }
    if (n == 0) {
      fail();
      return FrameReadResult::kClosed;
    }
    if (opening_size_ < kOpeningBytes) {
      const size_t take = std::min(kOpeningBytes - opening_size_, static_cast<size_t>(n));
      std::memcpy(opening_.data() + opening_size_, in_.data() + in_end_, take);
      opening_size_ += take;
    }
    in_end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
    read_this_call += static_cast<size_t>(n);
    parse();
    if (too_large_) {
      fail();
      return FrameReadResult::kTooLarge;
    }
    if (static_cast<size_t>(n) < want) return FrameReadResult::kOk;  // the kernel had no more
  }
  return FrameReadResult::kOk;
}

bool FrameStream::whole_frame_buffered() const {
  return in_end_ - in_start_ >= kFrameHeaderBytes &&
         in_end_ - in_start_ >= kFrameHeaderBytes + get_length(in_.data() + in_start_);
}

// Whole frames move to ready_ up to the read bounds; the rest wait in in_
// (at most one read's worth) for next_frame() to make room.
void FrameStream::parse() {
  while (ready_.size() < limits_.max_read_frames && in_end_ - in_start_ >= kFrameHeaderBytes) {
    const uint32_t length = get_length(in_.data() + in_start_);
    const size_t bound = !first_frame_read_ && limits_.max_first_frame_bytes != 0
                             ? std::min(limits_.max_first_frame_bytes, limits_.max_frame_bytes)
                             : limits_.max_frame_bytes;
    if (length > bound) {
      too_large_ = true;
      return;
    }
    if (in_end_ - in_start_ < kFrameHeaderBytes + length) return;
    if (!ready_.empty() && ready_bytes_ + length > limits_.max_read_bytes) return;
    ready_.emplace_back(in_.data() + in_start_ + kFrameHeaderBytes, length);
    ready_bytes_ += length;
    first_frame_read_ = true;
    in_start_ += kFrameHeaderBytes + length;
  }
}

bool FrameStream::next_frame(std::string& out) {
  if (ready_.empty()) return false;
  out = std::move(ready_.front());
  ready_.pop_front();
  ready_bytes_ -= out.size();
  // A frame held back by the bound is ready now: frames_ready() stays 0
  // only when no whole frame is buffered (callers sleep on that).
  if (!too_large_) {
    parse();
    if (too_large_) fail();
  }
  return true;
}

}  // namespace corral::net
