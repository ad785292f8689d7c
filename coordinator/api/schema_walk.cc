#include "coordinator/api/schema_walk.h"

namespace corral::api {

namespace {

void read_value(capnp::DynamicValue::Reader value);

void read_field(capnp::DynamicStruct::Reader reader, capnp::StructSchema::Field field) {
  // get() checks the pointer against the field's type (Text, Data, list
  // element size, struct).
  read_value(reader.get(field));
}

void read_value(capnp::DynamicValue::Reader value) {
  switch (value.getType()) {
    case capnp::DynamicValue::STRUCT:
      read_every_field(value.as<capnp::DynamicStruct>());
      break;
    case capnp::DynamicValue::LIST: {
      auto list = value.as<capnp::DynamicList>();
      const auto element = list.getSchema().whichElementType();
      // Elements of a list of primitives were checked with the list.
      if (element == capnp::schema::Type::STRUCT || element == capnp::schema::Type::LIST ||
          element == capnp::schema::Type::TEXT || element == capnp::schema::Type::DATA ||
          element == capnp::schema::Type::ANY_POINTER) {
        for (auto e : list) read_value(e);
      }
      break;
    }
    default:
      break;  // primitives, Text and Data (checked by get)
  }
}

}  // namespace

void read_every_field(capnp::DynamicStruct::Reader reader) {
  for (auto field : reader.getSchema().getNonUnionFields()) read_field(reader, field);
  KJ_IF_MAYBE(active, reader.which()) { read_field(reader, *active); }
}

}  // namespace corral::api
