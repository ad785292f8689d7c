// The rendered text passes Prometheus's own linter (promtool, from Debian's
// prometheus package), when it is installed; skipped with a warning if not.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "coordinator/metrics/registry.h"

using namespace corral::metrics;

namespace {

// promtool's exit code and output for the given text.
std::pair<int, std::string> promtool_check(const std::string& text) {
  std::string path = "/tmp/corral_promtool_" + std::to_string(::getpid()) + ".txt";
  { std::ofstream(path) << text; }
  std::string cmd = "promtool check metrics < " + path + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("promtool check metrics accepts the rendered text") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    WARN("promtool not installed (apt-get install prometheus): skipped");
    return;
  }
  Registry r;
  r.counter("corral_test_requests_total", "Requests served.").inc(7);
  r.gauge("corral_test_up", "Whether it is up.").set(1);
  auto& f = r.counter_family("corral_test_lines_total", "Lines by \"task\".", {"task"});
  f.with({"web/access\\10.0.0.1"}).inc();
  f.with({"quote\"new\nline"}).inc();
  auto& h = r.histogram_family("corral_test_latency_seconds", "Latency.", {"type"}, latency_buckets());
  h.with({"put"}).observe(0.003);
  h.with({"range"}).observe(12.0);
  auto [code, out] = promtool_check(r.render());
  INFO(r.render());
  INFO(out);
  CHECK(code == 0);

  // And the check can fail: a counter without _total is linted.
  Registry bad;
  bad.counter("corral_test_requests", "No _total suffix.").inc();
  CHECK(promtool_check(bad.render()).first != 0);
}
