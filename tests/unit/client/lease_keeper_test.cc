#include "client/lease_keeper.h"

#include <catch2/catch.hpp>

using namespace corral::client;

TEST_CASE("keepalives go out at a third of the TTL, never faster than the floor") {
  CHECK(keepalive_interval(30).count() == 10000);
  CHECK(keepalive_interval(10).count() == 3333);
  CHECK(keepalive_interval(0).count() == kMinKeepAliveIntervalMs);
  CHECK(keepalive_interval(-5).count() == kMinKeepAliveIntervalMs);
}
