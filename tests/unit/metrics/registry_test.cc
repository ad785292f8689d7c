#include <catch2/catch.hpp>

#include <stdexcept>

#include "coordinator/metrics/registry.h"

using namespace corral::metrics;

TEST_CASE("a small registry renders exactly, families sorted by name") {
  Registry r;
  r.gauge("b_gauge", "A gauge.").set(2.5);
  r.counter("a_total", "A counter.").inc(3);
  auto& by_code = r.counter_family("c_requests_total", "Requests by type and code.", {"type", "code"});
  by_code.with({"put", "ok"}).inc();
  by_code.with({"get", "ok"}).inc(2);
  by_code.with({"get", "notFound"}).inc();
  r.counter_family("d_unused_total", "Never used: not rendered.", {"x"});
  CHECK(r.render() ==
        "# HELP a_total A counter.\n"
        "# TYPE a_total counter\n"
        "a_total 3\n"
        "# HELP b_gauge A gauge.\n"
        "# TYPE b_gauge gauge\n"
        "b_gauge 2.5\n"
        "# HELP c_requests_total Requests by type and code.\n"
        "# TYPE c_requests_total counter\n"
        "c_requests_total{type=\"get\",code=\"notFound\"} 1\n"
        "c_requests_total{type=\"get\",code=\"ok\"} 2\n"
        "c_requests_total{type=\"put\",code=\"ok\"} 1\n");
  CHECK(r.render() == r.render());  // stable
  CHECK(r.describe().size() == 4);
}

TEST_CASE("label values and help are escaped") {
  Registry r;
  r.gauge_family("g", "Help with \\ and\nnewline.", {"path"}).with({"a\\b\"c\nd"}).set(-1);
  CHECK(r.render() ==
        "# HELP g Help with \\\\ and\\nnewline.\n"
        "# TYPE g gauge\n"
        "g{path=\"a\\\\b\\\"c\\nd\"} -1\n");
}

TEST_CASE("values are formatted as Prometheus reads them") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(1) == "1");
  CHECK(format_value(0.0001) == "0.0001");
  CHECK(format_value(2.5) == "2.5");
  CHECK(format_value(1e-05) == "1e-05");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(std::nan("")) == "NaN");
  CHECK(format_value(123456789012.0) == "123456789012");
}

TEST_CASE("a family past its bound collapses new label sets into one overflow series") {
  Registry r;
  auto& f = r.counter_family("lines_total", "Lines.", {"task"}, 2);
  f.with({"a"}).inc();
  f.with({"b"}).inc();
  f.with({"c"}).inc();
  f.with({"d"}).inc(5);
  f.with({"a"}).inc();  // an existing series keeps its own
  f.with({"a", "too many"}).inc();  // wrong arity: overflow, no crash
  CHECK(f.series_count() == 3);
  CHECK(r.render() ==
        "# HELP lines_total Lines.\n"
        "# TYPE lines_total counter\n"
        "lines_total{task=\"_overflow\"} 7\n"
        "lines_total{task=\"a\"} 2\n"
        "lines_total{task=\"b\"} 1\n");
}

TEST_CASE("long label values are cut") {
  Registry r;
  auto& f = r.counter_family("x_total", "X.", {"k"});
  f.with({std::string(1000, 'v')}).inc();
  f.with({std::string(2000, 'v')}).inc();
  CHECK(f.series_count() == 1);
  CHECK(f.with({std::string(kMaxLabelValueBytes, 'v')}).value() == 2);
}

TEST_CASE("bad names and repeated registrations are refused") {
  Registry r;
  CHECK_THROWS_AS(r.counter("9starts_with_digit", ""), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("has-dash", ""), std::invalid_argument);
  CHECK_THROWS_AS(r.counter_family("ok_total", "", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter_family("ok2_total", "", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram_family("h", "", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h2", "", {2, 1}), std::invalid_argument);
  r.counter("once_total", "");
  CHECK_THROWS_AS(r.gauge("once_total", ""), std::invalid_argument);
  CHECK(r.render() == "# HELP once_total \n# TYPE once_total counter\nonce_total 0\n");
}
