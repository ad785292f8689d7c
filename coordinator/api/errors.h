// The one place where errors become wire errors (schema/api.capnp Error).
#pragma once

#include <cstdint>
#include <string>

#include "coordinator/base/error.h"
#include "schema/api.capnp.h"

namespace corral::api {

namespace wire = corral::schema::api;

// An error as the client sees it.
struct WireError {
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;
  std::string message;
  std::string leader_hint;       // notLeader: the leader's client URL, if known
  int64_t compact_revision = 0;  // compacted: the compaction point
};

// corral::Error -> WireError: every server error goes through here.
WireError to_wire_error(const Error& error);
WireError wire_error(wire::ErrorCode code, std::string message);
WireError not_leader_error(std::string leader_hint);

void fill_error(wire::Error::Builder out, const WireError& error);

}  // namespace corral::api
