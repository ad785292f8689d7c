// A 3-member cluster: writes and reads through any member, and the key-space
// requests (range, prefix, limit, past revisions, list, txn, delete,
// compaction) end to end over real processes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

TEST_CASE("writes and reads go through any member", "[integration]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  // One client per member that knows only that member: a follower answers
  // or redirects, and the client follows.
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < cluster.size(); ++i) clients.push_back(cluster.client({cluster.member(i).client_url()}));
  for (size_t i = 0; i < cluster.size(); ++i) {
    require_ok(clients[i]->put("/any/from-" + cluster.member(i).name, "v" + std::to_string(i)), "put via member " + std::to_string(i));
  }
  for (size_t reader = 0; reader < cluster.size(); ++reader) {
    auto r = require_ok(clients[reader]->get_prefix("/any/"), "linearizable read");
    REQUIRE(r.kvs.size() == cluster.size());
    for (size_t i = 0; i < cluster.size(); ++i) {
      CHECK(r.kvs[i].key == "/any/from-" + cluster.member(i).name);
      CHECK(r.kvs[i].value == "v" + std::to_string(i));
    }
    // A serializable read is served by the member asked: it catches up soon.
    bool seen = wait_until(
        [&] {
          RangeRequest q;
          q.key = "/any/";
          q.range_end = prefix_range_end("/any/");
          q.serializable = true;
          auto s = clients[reader]->range(q);
          return s.ok() && s->kvs.size() == cluster.size();
        },
        5000ms);
    CHECK(seen);
  }
}

TEST_CASE("range, prefix, list, txn, delete and compaction end to end", "[integration]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  auto first = require_ok(c->put("/svc/web/a", "1"), "put a");
  require_ok(c->put("/svc/web/b", "2"), "put b");
  require_ok(c->put("/svc/web/sub/c", "3"), "put c");
  require_ok(c->put("/svc/db/x", "4"), "put x");
  auto overwrite = require_ok(c->put("/svc/web/a", "1b"), "overwrite a");
  CHECK(overwrite.header.revision > first.header.revision);

  auto web = require_ok(c->get_prefix("/svc/web/"), "prefix");
  REQUIRE(web.kvs.size() == 3);
  CHECK(web.kvs[0].key == "/svc/web/a");
  CHECK(web.kvs[0].value == "1b");
  CHECK(web.kvs[0].version == 2);
  CHECK(web.kvs[0].create_revision == first.header.revision);
  CHECK(web.kvs[0].mod_revision == overwrite.header.revision);
  CHECK(web.kvs[1].key == "/svc/web/b");
  CHECK(web.kvs[2].key == "/svc/web/sub/c");

  RangeRequest limited;
  limited.key = "/svc/";
  limited.range_end = prefix_range_end("/svc/");
  limited.limit = 2;
  auto lim = require_ok(c->range(limited), "limit");
  CHECK(lim.kvs.size() == 2);
  CHECK(lim.more);
  CHECK(lim.count == 4);
  limited.limit = 0;
  limited.count_only = true;
  auto counted = require_ok(c->range(limited), "count only");
  CHECK(counted.count == 4);
  CHECK(counted.kvs.empty());

  RangeRequest past;
  past.key = "/svc/web/a";
  past.revision = first.header.revision;
  auto old = require_ok(c->range(past), "past revision");
  REQUIRE(old.kvs.size() == 1);
  CHECK(old.kvs[0].value == "1");

  auto ls = require_ok(c->list("/svc/web"), "list");
  REQUIRE(ls.entries.size() == 3);
  CHECK(ls.entries[0].name == "a");
  CHECK(ls.entries[0].has_key);
  CHECK(ls.entries[0].kv.value == "1b");
  CHECK(ls.entries[1].name == "b");
  CHECK(ls.entries[2].name == "sub");
  CHECK(ls.entries[2].is_dir);
  CHECK_FALSE(ls.entries[2].has_key);

  // txn: the compare holds -> then branch; it does not -> else branch.
  auto txn_on = [&](const std::string& expect) {
    TxnRequest t;
    Compare cmp;
    cmp.target = Compare::Target::kValue;
    cmp.key = "/svc/web/a";
    cmp.value = expect;
    t.compare.push_back(cmp);
    PutRequest then_put;
    then_put.key = "/txn/branch";
    then_put.value = "then";
    PutRequest else_put = then_put;
    else_put.value = "else";
    RangeRequest else_get;
    else_get.key = "/svc/web/a";
    t.success.push_back(TxnOp{then_put});
    t.failure.push_back(TxnOp{else_put});
    t.failure.push_back(TxnOp{else_get});
    return c->txn(t);
  };
  auto t1 = require_ok(txn_on("1b"), "txn then");
  CHECK(t1.succeeded);
  CHECK(require_ok(c->get("/txn/branch"), "get branch").kvs.at(0).value == "then");
  auto t2 = require_ok(txn_on("nope"), "txn else");
  CHECK_FALSE(t2.succeeded);
  REQUIRE(t2.responses.size() == 2);
  REQUIRE(std::holds_alternative<RangeResult>(t2.responses[1].result));
  CHECK(std::get<RangeResult>(t2.responses[1].result).kvs.at(0).value == "1b");
  CHECK(require_ok(c->get("/txn/branch"), "get branch").kvs.at(0).value == "else");

  auto deleted = require_ok(c->del("/svc/web/", prefix_range_end("/svc/web/")), "delete prefix");
  CHECK(deleted.deleted == 3);
  CHECK(require_ok(c->get_prefix("/svc/web/"), "after delete").kvs.empty());
  CHECK(require_ok(c->get("/svc/db/x"), "untouched").kvs.size() == 1);

  // Compaction: a read below the compaction point is a typed error.
  require_ok(c->compact(overwrite.header.revision), "compact");
  auto gone = c->range(past);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ErrorCode::kCompacted);
  CHECK(gone.error().compact_revision == overwrite.header.revision);
}
