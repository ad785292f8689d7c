#include <catch2/catch.hpp>

#include "coordinator/server/command.h"
#include "coordinator/server/members.h"

using namespace corral::server;

TEST_CASE("a command batch round-trips", "[server][command]") {
  CommandWriter w(77);
  w.add(1, "first");
  w.add(2, std::string(1000, 'x'));
  w.add(3, "");
  CHECK(w.count() == 3);
  auto data = w.take();
  CHECK(w.count() == 0);
  auto cmd = decode_command(data);
  REQUIRE(cmd.ok());
  CHECK(cmd->proposer == 77);
  REQUIRE(cmd->items.size() == 3);
  CHECK(cmd->items[0].proposal_id == 1);
  CHECK(cmd->items[0].request == "first");
  CHECK(cmd->items[1].request.size() == 1000);
  CHECK(cmd->items[2].request.empty());
}

TEST_CASE("broken commands are typed errors", "[server][command]") {
  CommandWriter w(5);
  w.add(9, "payload");
  auto data = w.take();
  // Every truncation fails cleanly.
  for (size_t n = 0; n < data.size(); ++n) {
    auto cmd = decode_command(std::string_view(data).substr(0, n));
    CHECK_FALSE(cmd.ok());
  }
  CHECK_FALSE(decode_command(data + "x").ok());
  std::string bad_magic = data;
  bad_magic[0] = 'Z';
  CHECK(decode_command(bad_magic).error().code == corral::ErrorCode::kBadRequest);
  std::string zero_count = data;
  zero_count[10] = zero_count[11] = zero_count[12] = zero_count[13] = 0;
  CHECK_FALSE(decode_command(zero_count).ok());
  // A count far past what the bytes hold.
  std::string huge = data;
  huge[13] = '\x7f';
  CHECK_FALSE(decode_command(huge).ok());
}

TEST_CASE("conf change context round-trips and rejects junk", "[server][command]") {
  ConfChangeContext ctx{1, 2, "member-bytes"};
  auto dec = decode_conf_context(encode_conf_context(ctx));
  REQUIRE(dec.ok());
  CHECK(dec->proposer == 1);
  CHECK(dec->proposal_id == 2);
  CHECK(dec->member == "member-bytes");
  CHECK_FALSE(decode_conf_context("short").ok());
}

TEST_CASE("initial cluster parsing and member ids", "[server][members]") {
  auto ms = parse_initial_cluster("n1=tcp://127.0.0.1:2380,n2=127.0.0.1:2381");
  REQUIRE(ms.ok());
  REQUIRE(ms->size() == 2);
  CHECK((*ms)[1].peer_urls[0] == "tcp://127.0.0.1:2381");
  // Every initial member computes the same ids, whatever the order given.
  auto reordered = parse_initial_cluster("n2=127.0.0.1:2381,n1=tcp://127.0.0.1:2380");
  REQUIRE(reordered.ok());
  CHECK((*ms)[0].id == (*reordered)[1].id);
  CHECK((*ms)[0].id == initial_member_id("n1", initial_cluster_token({"n2", "n1"})));
  CHECK((*ms)[0].id != (*ms)[1].id);
  // Another initial member list gives a name another id.
  auto other = parse_initial_cluster("n1=tcp://127.0.0.1:2380,n3=127.0.0.1:2382");
  REQUIRE(other.ok());
  CHECK((*other)[0].id != (*ms)[0].id);
  // Two members with one peer URL are refused, naming both.
  auto same_url = parse_initial_cluster("n1=127.0.0.1:1,n2=tcp://127.0.0.1:1");
  REQUIRE_FALSE(same_url.ok());
  CHECK(same_url.error().message.find("'n1' and 'n2'") != std::string::npos);
  CHECK_FALSE(parse_initial_cluster("n1").ok());
  CHECK_FALSE(parse_initial_cluster("=tcp://127.0.0.1:1").ok());
  CHECK_FALSE(parse_initial_cluster("n1=nothost").ok());
  CHECK_FALSE(parse_initial_cluster("n1=127.0.0.1:1,n1=127.0.0.1:2").ok());
  CHECK_FALSE(parse_initial_cluster("").ok());

  // Added members: a new id for each add, never one taken.
  auto taken_none = [](uint64_t) { return false; };
  auto a = added_member_id(7, 2, 10, "n4", taken_none);
  auto b = added_member_id(7, 2, 11, "n4", taken_none);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);
  auto c = added_member_id(7, 2, 10, "n4", [&](uint64_t id) { return id == *a; });
  REQUIRE(c.ok());
  CHECK(*c != *a);
  CHECK_FALSE(added_member_id(7, 2, 10, "n4", [](uint64_t) { return true; }).ok());

  MemberInfo m{42, "n", {"tcp://127.0.0.1:1"}, {"tcp://127.0.0.1:2"}, true};
  auto back = decode_member(encode_member(m));
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK_FALSE(decode_member("12345678").ok());
}
