// A small HTTP/1.1 client over plain sockets for the HTTP API's tests: one
// request per connection with a deadline (HttpAnswer), and a watch stream
// reader (WatchStream) that takes its chunked lines one at a time. Every
// wait has a deadline; nothing here sleeps.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::integration {

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed, closed or timed out)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  nlohmann::json json() const;  // the body parsed, or discarded on failure
};

// `target` is the path and query; `port` the member's HTTP port on 127.0.0.1.
HttpAnswer http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::string& content_type = "application/x-www-form-urlencoded",
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000),
                        const std::vector<std::string>& extra_headers = {});
// Sends exactly `raw` (a hand-made request) and reads the answer.
HttpAnswer http_raw(int port, const std::string& raw, std::chrono::milliseconds timeout);

// A GET of a streaming route; lines are read as they come.
class WatchStream {
 public:
  WatchStream(int port, const std::string& target);
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  int status() const { return status_; }
  // The next JSON line, or nullopt when none came within `timeout` or the
  // stream ended (then ended() is true).
  std::optional<nlohmann::json> next(std::chrono::milliseconds timeout);
  // Reads what is there without waiting; returns false when the stream ended.
  bool pump();
  // Lines read and not yet taken by next().
  std::vector<nlohmann::json>& lines() { return lines_; }
  bool ended() const { return ended_; }

 private:
  void parse();
  int fd_ = -1;
  int status_ = 0;
  bool headers_done_ = false;
  bool ended_ = false;
  std::string raw_;   // bytes not yet de-chunked
  std::string text_;  // de-chunked bytes not yet a whole line
  std::vector<nlohmann::json> lines_;
};

// A connection to 127.0.0.1:port, or -1.
int connect_loopback(int port, int receive_buffer_bytes = 0);

}  // namespace corral::integration
