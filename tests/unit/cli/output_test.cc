// corralctl's printed forms that scripts written for etcdctl parse.
#include <catch2/catch.hpp>

#include <sstream>

#include "cli/output.h"

using namespace corral::client;

namespace {

WatchEvent event(WatchEvent::Type type, const std::string& key, const std::string& value) {
  WatchEvent e;
  e.type = type;
  e.kv.key = key;
  e.kv.value = value;
  return e;
}

std::string simple(const WatchEvent& e) {
  std::ostringstream out;
  Printer(Format::kSimple, out).event(e);
  return out.str();
}

}  // namespace

TEST_CASE("watch events print as etcdctl 3.4 prints them", "[cli][output]") {
  CHECK(simple(event(WatchEvent::Type::kPut, "/k", "v1")) == "PUT\n/k\nv1\n");
  // A DELETE has its value line too, empty: scripts read events three lines at a time.
  CHECK(simple(event(WatchEvent::Type::kDelete, "/k", "")) == "DELETE\n/k\n\n");

  // --prev-kv: the previous key and value come before the event's own.
  auto put = event(WatchEvent::Type::kPut, "/k", "v2");
  put.has_prev_kv = true;
  put.prev_kv.key = "/k";
  put.prev_kv.value = "v1";
  CHECK(simple(put) == "PUT\n/k\nv1\n/k\nv2\n");
  auto del = event(WatchEvent::Type::kDelete, "/k", "");
  del.has_prev_kv = true;
  del.prev_kv.key = "/k";
  del.prev_kv.value = "v2";
  CHECK(simple(del) == "DELETE\n/k\nv2\n/k\n\n");
}

TEST_CASE("get --print-value-only and --hex in simple format", "[cli][output]") {
  RangeResult r;
  KeyValue kv;
  kv.key = "/k";
  kv.value = "v";
  kv.version = 1;
  r.kvs = {kv};
  r.count = 1;
  std::ostringstream plain, value_only, hex;
  Printer(Format::kSimple, plain).range(r, false);
  Printer p(Format::kSimple, value_only);
  p.set_simple_form(true, false);
  p.range(r, false);
  Printer h(Format::kSimple, hex);
  h.set_simple_form(false, true);
  h.range(r, false);
  CHECK(plain.str() == "/k\nv\n");
  CHECK(value_only.str() == "v\n");
  CHECK(hex.str() == "\\x2f\\x6b\n\\x76\n");
}

TEST_CASE("sizes as etcdctl prints them", "[cli][output]") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(9) == "9 B");
  CHECK(human_bytes(512) == "512 B");
  CHECK(human_bytes(1500) == "1.5 kB");
  CHECK(human_bytes(20480) == "20 kB");
  CHECK(human_bytes(25'000'000) == "25 MB");
}

TEST_CASE("endpoint status: member id in hex, db size human-readable", "[cli][output]") {
  EndpointReport r;
  r.endpoint = "127.0.0.1:2379";
  r.healthy = true;
  r.status.header.member_id = 0xabc;
  r.status.leader = 0xabc;
  r.status.version = "1";
  r.status.db_size_bytes = 20480;
  std::ostringstream out;
  Printer(Format::kSimple, out).endpoint_status({r});
  CHECK(out.str().rfind("127.0.0.1:2379, abc, 1, 20 kB, true, ", 0) == 0);
}
