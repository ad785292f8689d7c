// The request kinds a loaded member takes most (range and put) read through
// their generated getters instead of read_every_field's schema walk. Each
// getter checks its pointer against the declared type exactly as
// DynamicStruct::get does (the same capnp readers underneath), so a pointer
// of the wrong kind throws the same way; what goes is the schema lookup per
// field (Field::getType, getProto): the walk was ~7% of a leader's CPU at
// 100k gets/s (bench/RESULTS.md, branch s21-cpu).
#pragma once

#include <array>
#include <string_view>

#include "schema/api.capnp.h"

namespace corral::api {

// Reads every pointer field of a range or put request (and the request's
// own token). Returns false, having read nothing, for any other kind: the
// caller walks those with read_every_field. Throws kj::Exception as
// read_every_field does.
bool read_fields_typed(schema::api::Request::Reader r);

// Every pointer field read_fields_typed reads, "Struct.field" (for
// Request: its fields outside the union). A test compares this with the
// compiled-in schema, so that a field added to one of these structs fails
// the build's tests until the typed read covers it.
inline constexpr std::array<std::string_view, 5> kTypedPointerFields = {
    "Request.token", "RangeRequest.key", "RangeRequest.rangeEnd", "PutRequest.key", "PutRequest.value",
};

}  // namespace corral::api
