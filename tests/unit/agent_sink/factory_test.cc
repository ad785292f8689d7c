#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/sink/factory.h"
#include "tests/unit/agent_sink/temp_dir.h"

namespace corral::agent::sink {

TEST_CASE("make_sink opens the sink its spec names", "[agent_sink][factory]") {
  testing::TempDir tmp;
  auto file = make_sink("file:" + tmp.path() + "/sink");
  REQUIRE(file.ok());
  CHECK((*file)->describe() == "file:" + tmp.path() + "/sink");
  auto out = make_sink("stdout");
  REQUIRE(out.ok());
  CHECK((*out)->describe() == "stdout");
  SinkOptions zmq_options;
  zmq_options.zmq_linger = std::chrono::milliseconds{0};
  auto push = make_sink("zmq:tcp://127.0.0.1:1", zmq_options);
  REQUIRE(push.ok());
  CHECK((*push)->describe() == "zmq:tcp://127.0.0.1:1");
  auto bound = make_sink("zmq-bind:tcp://127.0.0.1:*", zmq_options);
  REQUIRE(bound.ok());
  CHECK((*bound)->describe().rfind("zmq-bind:tcp://127.0.0.1:", 0) == 0);
}

TEST_CASE("make_sink answers kBadSpec or the sink's own open error", "[agent_sink][factory]") {
  auto bogus = make_sink("kafka:broker");
  REQUIRE_FALSE(bogus.ok());
  CHECK(bogus.error().code == SinkErrorCode::kBadSpec);
  testing::TempDir tmp;
  testing::write_raw(tmp.path() + "/f", "x");
  auto file = make_sink("file:" + tmp.path() + "/f");
  REQUIRE_FALSE(file.ok());
  CHECK(file.error().code == SinkErrorCode::kBadPath);
}

}  // namespace corral::agent::sink
