// The leader raises a lease grant's TTL to the minimum its election timeout
// allows (lease::min_ttl_seconds_for) before proposing it, so the TTL the
// entry carries is the one every member applies: a minimum taken in apply
// from each member's own flags could differ between members.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "coordinator/api/request.h"

namespace corral::server {

// The request to propose instead of `req`, when `req` is a lease grant (or
// a grant batch) with a TTL below min_ttl_seconds; nullopt to propose it as
// it came.
std::optional<std::string> raise_grant_ttl(const api::ParsedRequest& req, int64_t min_ttl_seconds);

}  // namespace corral::server
