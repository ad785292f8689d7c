#include <catch2/catch.hpp>

#include "agent/sink/spec.h"

namespace corral::agent::sink {

TEST_CASE("parse_sink_spec reads the four forms", "[agent_sink][spec]") {
  auto file = parse_sink_spec("file:/var/lib/corral/sink");
  REQUIRE(file.ok());
  CHECK(file->kind == SinkSpec::Kind::kFile);
  CHECK(file->target == "/var/lib/corral/sink");
  auto out = parse_sink_spec("stdout");
  REQUIRE(out.ok());
  CHECK(out->kind == SinkSpec::Kind::kStdout);
  auto push = parse_sink_spec("zmq:tcp://10.0.0.5:5555");
  REQUIRE(push.ok());
  CHECK(push->kind == SinkSpec::Kind::kZmqConnect);
  CHECK(push->target == "tcp://10.0.0.5:5555");
  auto bind = parse_sink_spec("zmq-bind:tcp://0.0.0.0:5555");
  REQUIRE(bind.ok());
  CHECK(bind->kind == SinkSpec::Kind::kZmqBind);
  for (const char* s : {"file:/d", "stdout", "zmq:tcp://h:1", "zmq-bind:tcp://*:2"}) {
    CHECK(to_string(*parse_sink_spec(s)) == s);
  }
}

TEST_CASE("parse_sink_spec refuses malformed specs with the accepted forms", "[agent_sink][spec]") {
  for (const char* bad : {"", "file:", "/var/log", "stdout:", "zmq:", "zmq:10.0.0.1:5555", "zmq:tcp://", "kafka:x"}) {
    INFO(bad);
    auto s = parse_sink_spec(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == SinkErrorCode::kBadSpec);
    CHECK(s.error().message.find("file:DIR") != std::string::npos);
  }
}

}  // namespace corral::agent::sink
