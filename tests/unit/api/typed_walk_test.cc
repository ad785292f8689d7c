// api/typed_walk: range and put requests are read through their generated
// getters, not the schema walk. A pointer of the wrong kind in any of their
// pointer fields is still malformed at decode, and the list of fields the
// typed read covers is the schema's.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>

#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "coordinator/api/typed_walk.h"
#include "schema/data_bytes.h"

namespace api = corral::api;
namespace wire = corral::schema::api;

namespace {

// The pointer fields of `s` ("Name.field"): every field that is not a plain
// value (a group counts, its members could be pointers). With union_too
// false, the union's members are left out.
template <typename T>
void add_pointer_fields(std::set<std::string>& out, const char* name, bool union_too) {
  auto s = capnp::Schema::from<T>();
  for (auto f : s.getFields()) {
    auto proto = f.getProto();
    if (!union_too && proto.getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) continue;
    bool pointer = proto.isGroup();
    if (!pointer) {
      auto t = f.getType();
      pointer = t.isText() || t.isData() || t.isList() || t.isStruct() || t.isAnyPointer() || t.isInterface();
    }
    if (pointer) out.insert(std::string(name) + "." + std::string(proto.getName().cStr()));
  }
}

// A well-formed request whose field `field` (of the struct `pick` returns)
// holds a pointer of another kind than declared: a struct where Data or
// Text is, a list of words for the token.
template <typename Pick>
std::string corrupted(Pick pick, capnp::StructSchema schema, const char* field) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(41);
  capnp::AnyStruct::Builder target = pick(r);
  auto slot = schema.getFieldByName(field).getProto().getSlot().getOffset();
  target.getPointerSection()[slot].initAsAnyStruct(1, 0);
  return api::to_flat_bytes(m);
}

void require_malformed(const std::string& bytes) {
  api::ParseOutcome out;
  REQUIRE_NOTHROW(out = api::parse_request(bytes, api::kDefaultMaxRequestBytes));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error.code == wire::ErrorCode::MALFORMED);
  CHECK(out.id == 41);
}

}  // namespace

TEST_CASE("the typed read covers every pointer field of range, put and the request", "[api]") {
  std::set<std::string> schema_fields;
  add_pointer_fields<wire::Request>(schema_fields, "Request", false);
  add_pointer_fields<wire::RangeRequest>(schema_fields, "RangeRequest", true);
  add_pointer_fields<wire::PutRequest>(schema_fields, "PutRequest", true);
  std::set<std::string> covered(api::kTypedPointerFields.begin(), api::kTypedPointerFields.end());
  CHECK(schema_fields == covered);
}

TEST_CASE("a range or put with a struct in a Data field is malformed", "[api]") {
  auto range = [](wire::Request::Builder r) { return capnp::AnyStruct::Builder(r.initRange()); };
  auto put = [](wire::Request::Builder r) { return capnp::AnyStruct::Builder(r.initPut()); };
  auto range_schema = capnp::Schema::from<wire::RangeRequest>();
  auto put_schema = capnp::Schema::from<wire::PutRequest>();
  require_malformed(corrupted(range, range_schema, "key"));
  require_malformed(corrupted(range, range_schema, "rangeEnd"));
  require_malformed(corrupted(put, put_schema, "key"));
  require_malformed(corrupted(put, put_schema, "value"));
}

TEST_CASE("a range or put whose token is a struct is malformed", "[api]") {
  auto root_of = [](auto init) {
    return [init](wire::Request::Builder r) {
      init(r);
      return capnp::AnyStruct::Builder(wire::Request::Builder(r));
    };
  };
  auto request_schema = capnp::Schema::from<wire::Request>();
  require_malformed(corrupted(root_of([](wire::Request::Builder r) { r.initRange(); }), request_schema, "token"));
  require_malformed(corrupted(root_of([](wire::Request::Builder r) { r.initPut(); }), request_schema, "token"));
}

TEST_CASE("read_fields_typed takes range and put, and leaves other kinds to the walk", "[api]") {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.initRange().setKey(corral::schema::as_data("/a"));
  CHECK(api::read_fields_typed(r.asReader()));
  r.initPut().setValue(corral::schema::as_data("v"));
  CHECK(api::read_fields_typed(r.asReader()));
  r.initDeleteRange();
  CHECK_FALSE(api::read_fields_typed(r.asReader()));
  r.initTxn();
  CHECK_FALSE(api::read_fields_typed(r.asReader()));
}
