// net/reply_budget.h: when a connection's unread replies stop its work.
#include "coordinator/net/reply_budget.h"

#include <catch2/catch.hpp>

using corral::net::ReplyBudget;
using corral::net::serve_verdict;
using corral::net::ServeVerdict;

TEST_CASE("reply budget: a connection past its own bound, or holding its share of a full member, is refused",
          "[net][reply_budget]") {
  ReplyBudget b;
  b.max_unsent_bytes_per_connection = 100;
  b.max_unsent_bytes_total = 1000;
  b.max_unsent_bytes_when_crowded = 10;
  struct Case {
    int64_t connection;
    int64_t total;
    ServeVerdict want;
  };
  const Case cases[] = {
      {0, 0, ServeVerdict::kServe},
      {99, 500, ServeVerdict::kServe},
      {100, 500, ServeVerdict::kConnectionFull},
      {5000, 5000, ServeVerdict::kConnectionFull},
      {9, 1000, ServeVerdict::kServe},  // a member full of others' replies still serves a reader
      {10, 1000, ServeVerdict::kMemberFull},
      {10, 999, ServeVerdict::kServe},
  };
  for (const Case& c : cases) {
    INFO("connection " << c.connection << ", total " << c.total);
    CHECK(serve_verdict(b, c.connection, c.total) == c.want);
  }
}
