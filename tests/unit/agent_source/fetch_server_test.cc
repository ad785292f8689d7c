#include "agent/source/fetch_server.h"

#include <zmq.h>

#include <atomic>
#include <catch2/catch.hpp>

#include <set>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "agent/fetch/fetch_client.h"
#include "agent/fetch/fetch_codec.h"
#include "tests/unit/agent_source/source_test_util.h"

using corral::agent::fetch::AgentResponse;
using corral::agent::fetch::decode_response;
using corral::agent::fetch::FetchClient;
using corral::agent::fetch::FetchClientOptions;
using corral::agent::fetch::FetchCompletion;
using corral::agent::fetch::FetchErrorCode;
using corral::agent::fetch::FetchReply;
using corral::agent::fetch::FetchRequest;
using corral::agent::fetch::kMaxRequestBytes;
using corral::agent::source::FetchServer;
using corral::agent::source::FetchServerOptions;
using corral::agent::source::StreamConfig;
using corral::agent::source::Tailer;
using corral::agent::source::TailerOptions;
using corral::agent::source::testing::append;
using corral::agent::source::testing::kTestDeadline;
using corral::agent::source::testing::numbered_lines;
using corral::agent::source::testing::TempDir;

namespace {

using namespace std::chrono_literals;

// A tailer over two streams and a server for it on an ephemeral loopback
// port, run on a thread of its own until the fixture ends. The test thread
// only writes files and talks to the server over ZeroMQ.
struct Source {
  explicit Source(std::chrono::milliseconds grace = 50ms) {
    append(dir.file("access.log"), numbered_lines(0, 100));
    append(dir.file("error.log"), numbered_lines(1000, 10));
    TailerOptions o;
    o.poll_interval = 10ms;
    o.files.finish_grace = grace;
    auto t = Tailer::create({StreamConfig{"web/access", {dir.file("access.log*")}},
                             StreamConfig{"web/error", {dir.file("error.log")}}},
                            o);
    REQUIRE(t.ok());
    tailer = std::move(t).value();
    auto s = FetchServer::create(ctx, *tailer, FetchServerOptions{"tcp://127.0.0.1:0"});
    REQUIRE(s.ok());
    server = std::move(s).value();
    endpoint = server->bound_endpoint();
    thread = std::thread([this] { server->run(stop); });
  }
  ~Source() {
    stop = true;
    thread.join();
  }
  std::unique_ptr<FetchClient> client(size_t max_in_flight = 16) {
    FetchClientOptions o;
    o.endpoint = endpoint;
    o.max_in_flight = max_in_flight;
    auto c = FetchClient::create(ctx, o);
    REQUIRE(c.ok());
    return std::move(c).value();
  }

  TempDir dir;
  zmq::context_t ctx;
  std::unique_ptr<Tailer> tailer;
  std::unique_ptr<FetchServer> server;
  std::string endpoint;
  std::atomic<bool> stop{false};
  std::thread thread;
};

FetchRequest from_start(const std::string& stream, uint32_t max_bytes = 1 << 20) {
  FetchRequest r;
  r.stream = stream;
  r.max_bytes = max_bytes;
  return r;
}

// Reads `stream` with blocking fetches until `want` bytes came and nothing
// is retained ahead; returns what was read.
std::string read_stream(FetchClient& client, const std::string& stream, size_t want,
                        uint32_t max_bytes) {
  std::string got;
  FetchRequest r = from_start(stream, max_bytes);
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = client.fetch(r, 5s);
    REQUIRE(reply.ok());
    REQUIRE(reply->error == FetchErrorCode::kOk);
    got += reply->data;
    r.file = r.committed_file = reply->next_file;
    r.offset = r.committed_offset = reply->next_offset;
    if (got.size() >= want && reply->end_bytes == 0) break;
    if (reply->data.empty()) std::this_thread::sleep_for(2ms);
  }
  return got;
}

// One raw frame to the server and its one answer, decoded.
FetchReply raw_exchange(zmq::context_t& ctx, const std::string& endpoint, const std::string& bytes) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  dealer.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq_pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  REQUIRE(zmq_poll(&item, 1, std::chrono::milliseconds(kTestDeadline).count()) == 1);
  zmq::message_t answer;
  REQUIRE(dealer.recv(answer));
  auto decoded = decode_response(answer.to_string_view());
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<FetchReply>(decoded.value()));
  return std::get<FetchReply>(decoded.value());
}

}  // namespace

TEST_CASE("fetch over ZeroMQ end to end with several requests in flight", "[fetch_server]") {
  Source source;
  auto client = source.client();
  // Four requests at once on one connection, on two streams.
  std::map<uint64_t, std::string> expect;
  std::map<uint64_t, uint64_t> total;
  for (uint32_t max_bytes : {20u, 1u << 20}) {
    for (const char* stream : {"web/access", "web/error"}) {
      auto id = client->submit(from_start(stream, max_bytes), 5s);
      REQUIRE(id.ok());
      const std::string all = stream == std::string("web/access") ? numbered_lines(0, 100)
                                                                  : numbered_lines(1000, 10);
      expect[*id] = all.substr(0, all.substr(0, max_bytes).rfind('\n') + 1);
      total[*id] = all.size();
    }
  }
  CHECK(client->in_flight() == 4);
  std::vector<FetchCompletion> done;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (done.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : client->collect(100ms)) done.push_back(std::move(c));
  }
  REQUIRE(done.size() == 4);
  for (const FetchCompletion& c : done) {
    INFO("request " << c.id);
    REQUIRE(c.reply.ok());
    REQUIRE(c.reply->error == FetchErrorCode::kOk);
    CHECK(c.reply->data == expect.at(c.id));
    CHECK(c.reply->offset == 0);
    CHECK(c.reply->next_file == c.reply->file);
    CHECK(c.reply->next_offset == expect.at(c.id).size());
    CHECK(c.reply->end_bytes == total.at(c.id) - expect.at(c.id).size());
  }
}

TEST_CASE("a stream rotated while it is fetched arrives whole over ZeroMQ", "[fetch_server]") {
  Source source;
  auto client = source.client();
  std::string written = numbered_lines(0, 100);
  REQUIRE(std::rename(source.dir.file("access.log").c_str(),
                      source.dir.file("access.log.1").c_str()) == 0);
  append(source.dir.file("access.log"), numbered_lines(100, 50));
  written += numbered_lines(100, 50);
  CHECK(read_stream(*client, "web/access", written.size(), 256) == written);
}

TEST_CASE("unknown streams and file ids give typed errors over ZeroMQ", "[fetch_server]") {
  Source source;
  auto client = source.client();
  auto unknown_stream = client->fetch(from_start("web/nope"), 5s);
  REQUIRE(unknown_stream.ok());
  CHECK(unknown_stream->error == FetchErrorCode::kUnknownStream);

  FetchRequest bad_file = from_start("web/access");
  bad_file.file = "1-2-3-4";
  auto unknown_file = client->fetch(bad_file, 5s);
  REQUIRE(unknown_file.ok());
  CHECK(unknown_file->error == FetchErrorCode::kUnknownFile);
  CHECK_FALSE(unknown_file->file.empty());  // the oldest retained file
  CHECK(unknown_file->offset == 0);

  // A path is never a file id: nothing outside the configured streams is read.
  FetchRequest path = from_start("web/access");
  path.file = "/etc/passwd";
  auto by_path = client->fetch(path, 5s);
  REQUIRE(by_path.ok());
  CHECK(by_path->error == FetchErrorCode::kUnknownFile);
  CHECK(by_path->data.empty());

  auto streams = client->streams(5s);
  REQUIRE(streams.ok());
  REQUIRE(streams->streams.size() == 2);
  CHECK(streams->streams[0].name == "web/access");
  CHECK(streams->streams[0].files == 1);
  CHECK(streams->streams[1].name == "web/error");
}

TEST_CASE("malformed and oversized frames get typed answers and the server keeps serving",
          "[fetch_server]") {
  Source source;
  const FetchReply garbage = raw_exchange(source.ctx, source.endpoint, "definitely not capnp");
  CHECK(garbage.id == 0);
  CHECK(garbage.error == FetchErrorCode::kBadRequest);
  const FetchReply huge =
      raw_exchange(source.ctx, source.endpoint, std::string(kMaxRequestBytes + 8, '\0'));
  CHECK(huge.error == FetchErrorCode::kTooLarge);
  auto client = source.client();
  auto reply = client->fetch(from_start("web/error"), 5s);
  REQUIRE(reply.ok());
  CHECK(reply->data == numbered_lines(1000, 10));
}

TEST_CASE("a second server cannot bind the same endpoint", "[fetch_server]") {
  Source source;
  auto second = FetchServer::create(source.ctx, *source.tailer, FetchServerOptions{source.endpoint});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == FetchErrorCode::kUnavailable);
}

TEST_CASE("a writer rotating by rename while a collector fetches: nothing lost, nothing twice",
          "[fetch_server]") {
  // A grace far above any scheduling stall of the writer thread: the test is
  // about order and completeness, not about the grace rule's timing.
  Source source(500ms);
  const std::string live = source.dir.file("access.log");
  const std::string first = numbered_lines(0, 100);  // already in access.log
  constexpr int kRotations = 4;
  constexpr int kLinesPerFile = 300;
  std::string written = first;
  int line = 100;
  for (int rotation = 0; rotation < kRotations; ++rotation) {
    written += numbered_lines(line, kLinesPerFile);
    line += kLinesPerFile;
  }
  std::thread writer([&] {
    int next = 100;
    for (int rotation = 0; rotation < kRotations; ++rotation) {
      const int fd = ::open(live.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      for (int i = 0; i < kLinesPerFile; ++i) {
        // The last tenth goes to the renamed file, before the writer reopens.
        if (i == kLinesPerFile * 9 / 10) {
          std::rename(live.c_str(), (live + "." + std::to_string(rotation)).c_str());
        }
        const std::string one = numbered_lines(next++, 1);
        if (::write(fd, one.data(), one.size()) != static_cast<ssize_t>(one.size())) break;
        if (i % 50 == 0) std::this_thread::sleep_for(1ms);
      }
      ::close(fd);
      ::close(::open(live.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    }
  });
  auto client = source.client();
  const std::string got = read_stream(*client, "web/access", written.size(), 1000);
  writer.join();
  CHECK(got.size() == written.size());
  CHECK(got == written);
}

TEST_CASE("a collector's whole window of fetches is answered, none dropped", "[fetch_server]") {
  // corral-agent keeps up to 64 fetches in flight per source (its
  // --max-in-flight-fetches bound); the source must queue that many answers
  // for one connection, or the dropped ones cost a collector its timeout.
  Source src;
  auto client = src.client(64);
  std::set<uint64_t> sent;
  for (int i = 0; i < 64; ++i) {
    auto id = client->submit(from_start(i % 2 ? "web/access" : "web/error", 4096), kTestDeadline);
    REQUIRE(id.ok());
    sent.insert(*id);
  }
  std::set<uint64_t> answered;
  const auto deadline = std::chrono::steady_clock::now() + kTestDeadline;
  while (answered.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : client->collect(100ms)) {
      REQUIRE(c.reply.ok());
      CHECK(c.reply->error == corral::agent::fetch::FetchErrorCode::kOk);
      answered.insert(c.id);
    }
  }
  CHECK(answered == sent);
}
