#include "tests/integration/harness/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace corral::integration {
namespace {

using Clock = std::chrono::steady_clock;

bool send_all(int fd, const std::string& bytes, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(left));
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits a whole answer (the connection was closed by us or the server after it).
bool parse_answer(const std::string& raw, HttpAnswer& out) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return false;
  out.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    size_t next = raw.find("\r\n", line);
    std::string header = raw.substr(line, next - line);
    size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::string value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      out.headers[lower(header.substr(0, colon))] = value;
    }
    line = next + 2;
  }
  std::string body = raw.substr(end + 4);
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    size_t len = std::stoul(it->second);
    if (body.size() < len) return false;
    out.body = body.substr(0, len);
    return true;
  }
  out.body = body;
  return true;
}

bool answer_complete(const std::string& raw) {
  HttpAnswer a;
  if (!parse_answer(raw, a)) return false;
  return a.headers.count("content-length") > 0;
}

}  // namespace

nlohmann::json HttpAnswer::json() const { return nlohmann::json::parse(body, nullptr, false); }

int connect_loopback(int port, int receive_buffer_bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (receive_buffer_bytes > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpAnswer http_raw(int port, const std::string& raw, std::chrono::milliseconds timeout) {
  HttpAnswer out;
  const auto deadline = Clock::now() + timeout;
  int fd = connect_loopback(port);
  if (fd < 0) return out;
  std::string received;
  if (send_all(fd, raw, deadline)) {
    char buf[65536];
    while (!answer_complete(received)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      received.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!parse_answer(received, out)) out = HttpAnswer{};
  return out;
}

HttpAnswer http_request(int port, const std::string& method, const std::string& target, const std::string& body,
                        const std::string& content_type, std::chrono::milliseconds timeout,
                        const std::vector<std::string>& extra_headers) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") {
    raw += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  for (const auto& h : extra_headers) raw += h + "\r\n";
  raw += "\r\n" + body;
  return http_raw(port, raw, timeout);
}

WatchStream::WatchStream(int port, const std::string& target) {
  fd_ = connect_loopback(port);
  if (fd_ < 0) return;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (!send_all(fd_, req, Clock::now() + std::chrono::seconds(5))) {
    ::close(fd_);
    fd_ = -1;
  }
}

WatchStream::~WatchStream() {
  if (fd_ >= 0) ::close(fd_);
}

bool WatchStream::pump() {
  if (fd_ < 0 || ended_) return false;
  char buf[65536];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      raw_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ended_ = true;
    break;
  }
  parse();
  return !ended_;
}

void WatchStream::parse() {
  if (!headers_done_) {
    size_t end = raw_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    status_ = std::atoi(raw_.c_str() + raw_.find(' ') + 1);
    headers_done_ = true;
    const bool chunked = lower(raw_.substr(0, end)).find("transfer-encoding: chunked") != std::string::npos;
    raw_.erase(0, end + 4);
    if (!chunked) {  // an error answer instead of a stream
      text_ += raw_ + "\n";
      raw_.clear();
    }
  }
  while (true) {
    size_t line = raw_.find("\r\n");
    if (line == std::string::npos) break;
    size_t size = std::strtoul(raw_.substr(0, line).c_str(), nullptr, 16);
    if (raw_.size() < line + 2 + size + 2) break;
    if (size == 0) ended_ = true;
    text_ += raw_.substr(line + 2, size);
    raw_.erase(0, line + 2 + size + 2);
  }
  size_t nl;
  while ((nl = text_.find('\n')) != std::string::npos) {
    std::string one = text_.substr(0, nl);
    text_.erase(0, nl + 1);
    if (one.empty()) continue;
    lines_.push_back(nlohmann::json::parse(one, nullptr, false));
  }
}

std::optional<nlohmann::json> WatchStream::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (lines_.empty()) {
    if (!pump() && lines_.empty()) return std::nullopt;
    if (!lines_.empty()) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
  }
  nlohmann::json first = lines_.front();
  lines_.erase(lines_.begin());
  return first;
}

}  // namespace corral::integration
