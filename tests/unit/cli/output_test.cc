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
