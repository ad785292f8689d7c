// CPU time of decoding one client request (api::parse_request), for the
// shapes corral-bench sends: a get of "/bench/read" and a put of a 256-byte
// key and a 1 KiB value; and of the two field checks inside it, the schema
// walk (read_every_field) and the typed read (read_fields_typed), on the
// same range request; and of encoding the answer to the get (a
// ResponseBuilder with one 1 KiB value, to flat bytes), and of a put's. Thread CPU time, so that a loaded machine slows it
// little. Usage: decode_bench [rounds]; one line per figure, ns per call.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <capnp/message.h>

#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "coordinator/api/schema_walk.h"
#include "coordinator/api/typed_walk.h"
#include "schema/data_bytes.h"

namespace {

namespace api = corral::api;
namespace wire = corral::schema::api;

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::string range_request() {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(1);
  r.initRange().setKey(corral::schema::as_data("/bench/read"));
  return api::to_flat_bytes(m);
}

std::string put_request() {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(1);
  auto p = r.initPut();
  const std::string key = "/bench/" + std::string(249, 'k');
  const std::string value(1024, 'v');
  p.setKey(corral::schema::as_data(key));
  p.setValue(corral::schema::as_data(value));
  return api::to_flat_bytes(m);
}

template <typename F>
void report(const char* what, int rounds, F f) {
  const double t0 = thread_cpu_ns();
  for (int i = 0; i < rounds; ++i) f();
  std::printf("%-40s %8.0f ns\n", what, (thread_cpu_ns() - t0) / rounds);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200000;
  const std::string get = range_request();
  const std::string put = put_request();
  report("parse_request, get", rounds, [&] {
    if (!api::parse_request(get, api::kDefaultMaxRequestBytes).ok()) std::abort();
  });
  report("parse_request, put 256 B key 1 KiB value", rounds, [&] {
    if (!api::parse_request(put, api::kDefaultMaxRequestBytes).ok()) std::abort();
  });
  auto parsed = api::parse_request(get, api::kDefaultMaxRequestBytes);
  auto root = parsed.request->get();
  report("read_every_field, get", rounds, [&] { api::read_every_field(capnp::toDynamic(root)); });
  report("read_fields_typed, get", rounds, [&] {
    if (!api::read_fields_typed(root)) std::abort();
  });
  corral::kv::RangeResult result;
  result.count = 1;
  result.kvs.push_back(corral::kv::KeyValue{"/bench/read", std::string(1024, 'v'), 1, 2, 1, 0});
  report("encode range response, 1 KiB value", rounds, [&] {
    api::ResponseBuilder b(1, api::Header{});
    api::fill_range(b.response().initRange(), result);
    if (b.finish().empty()) std::abort();
  });
  corral::kv::PutResult put_result;
  put_result.revision = 2;
  report("encode put response", rounds, [&] {
    api::ResponseBuilder b(1, api::Header{});
    api::fill_put(b.response().initPut(), put_result);
    if (b.finish().empty()) std::abort();
  });
  return 0;
}
