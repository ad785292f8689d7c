#include "client/retry.h"

#include <catch2/catch.hpp>

#include "client/txn.h"

using namespace corral::client;

namespace {
Error err(ErrorCode code, std::string hint = {}) {
  Error e = make_error(code, "x");
  e.leader_hint = std::move(hint);
  return e;
}
}  // namespace

TEST_CASE("requests are classified by whether repeating them is safe") {
  CHECK(classify(RangeRequest{}) == RequestClass::kRead);
  CHECK(classify(ListRequest{}) == RequestClass::kRead);
  CHECK(classify(StatusRequest{}) == RequestClass::kRead);
  CHECK(classify(PutRequest{}) == RequestClass::kWrite);
  CHECK(classify(DeleteRequest{}) == RequestClass::kWrite);
  CHECK(classify(LeaseGrantRequest{}) == RequestClass::kWrite);
  CHECK(classify(MemberAddRequest{}) == RequestClass::kWrite);
  CHECK(classify(LeaseKeepAliveRequest{}) == RequestClass::kIdempotent);
  CHECK(classify(Txn().then(op_get("/a")).otherwise(op_get("/b")).build()) == RequestClass::kRead);
  CHECK(classify(Txn().then(op_get("/a")).otherwise(op_put("/b", "v")).build()) ==
        RequestClass::kWrite);
  CHECK(classify(Txn().then(op_txn(Txn().then(op_delete("/a")).build())).build()) ==
        RequestClass::kWrite);
}

TEST_CASE("notLeader is followed for every request kind, since nothing was applied") {
  for (RequestClass cls : {RequestClass::kRead, RequestClass::kIdempotent, RequestClass::kWrite}) {
    Decision with_hint = decide(cls, Failure::kServerError, err(ErrorCode::kNotLeader, "tcp://1.2.3.4:5"));
    CHECK(with_hint.action == Action::kFollowHint);
    Decision no_hint = decide(cls, Failure::kServerError, err(ErrorCode::kNotLeader));
    CHECK(no_hint.action == Action::kNextEndpoint);
    CHECK(decide(cls, Failure::kNeverDelivered, Error{}).action == Action::kNextEndpoint);
  }
}

TEST_CASE("unavailable is retried for every request, timeout only for repeatable ones") {
  for (RequestClass cls : {RequestClass::kRead, RequestClass::kIdempotent, RequestClass::kWrite}) {
    Decision d = decide(cls, Failure::kServerError, err(ErrorCode::kUnavailable));
    CHECK(d.action == Action::kNextEndpoint);
    CHECK_FALSE(d.outcome_unknown);
  }
  CHECK(decide(RequestClass::kRead, Failure::kServerError, err(ErrorCode::kTimeout)).action ==
        Action::kNextEndpoint);
  Decision w = decide(RequestClass::kWrite, Failure::kServerError, err(ErrorCode::kTimeout));
  CHECK(w.action == Action::kFail);
  CHECK(w.outcome_unknown);
}

TEST_CASE("a write whose outcome is unknown is never sent twice") {
  for (Failure f : {Failure::kConnectionLost, Failure::kNoAnswer}) {
    Decision d = decide(RequestClass::kWrite, f, Error{});
    CHECK(d.action == Action::kFail);
    CHECK(d.outcome_unknown);
    CHECK(decide(RequestClass::kRead, f, Error{}).action == Action::kNextEndpoint);
    CHECK(decide(RequestClass::kIdempotent, f, Error{}).action == Action::kNextEndpoint);
  }
  Decision timeout = decide(RequestClass::kWrite, Failure::kServerError, err(ErrorCode::kTimeout));
  CHECK(timeout.action == Action::kFail);
  CHECK(timeout.outcome_unknown);
  CHECK(decide(RequestClass::kRead, Failure::kServerError, err(ErrorCode::kTimeout)).action ==
        Action::kNextEndpoint);
}

TEST_CASE("definite errors go to the caller as they are") {
  for (ErrorCode code : {ErrorCode::kBadRequest, ErrorCode::kCompacted, ErrorCode::kTooLarge,
                         ErrorCode::kLeaseNotFound, ErrorCode::kMalformed}) {
    Decision d = decide(RequestClass::kRead, Failure::kServerError, err(code));
    CHECK(d.action == Action::kFail);
    CHECK_FALSE(d.outcome_unknown);
  }
}

TEST_CASE("backoff is free within a round of endpoints, then doubles to a bound") {
  CHECK(backoff_ms(1, 3) == 0);
  CHECK(backoff_ms(2, 3) == 0);
  CHECK(backoff_ms(3, 3) == kRetryBackoffBaseMs);
  CHECK(backoff_ms(4, 3) == 2 * kRetryBackoffBaseMs);
  CHECK(backoff_ms(1, 1) == kRetryBackoffBaseMs);
  CHECK(backoff_ms(100, 3) == kRetryBackoffMaxMs);
  for (int a = 1; a < 40; ++a) CHECK(backoff_ms(a + 1, 3) >= backoff_ms(a, 3));
}
