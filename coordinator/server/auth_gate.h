// Enforcement of the auth store at the member that receives a request, on
// the node loop: who sends it, whether that user may, and the answers of
// the auth reads. Writes are checked by the leader before it proposes them
// against its applied auth store, which holds every acknowledged change, so
// a permission change takes effect on the next request; reads are checked
// again when served, after their ReadIndex, for the same reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/api/errors.h"
#include "coordinator/api/request.h"
#include "coordinator/auth/auth_store.h"
#include "coordinator/base/error.h"
#include "coordinator/lease/lessor.h"

namespace corral::server {

// Wall-clock milliseconds since the epoch: token expiry is compared across
// members.
int64_t wall_clock_ms();

// The user a request runs as: its token's when it has one (kUnauthenticated
// when that token does not verify), else the transport's (a CURVE client's
// ZAP User-Id), else "" (anonymous). With auth disabled always "".
Result<std::string> identify(const auth::AuthStore& store, schema::api::Request::Reader r,
                             std::string_view transport_user, int64_t now_ms);

// permissionDenied, naming the user and the key, when `user` may not make
// the request; nullopt when it may (always with auth disabled).
std::optional<api::WireError> authorize(const auth::AuthStore& store, const lease::Lessor& lessor,
                                        std::string_view user, schema::api::Request::Reader r);

// An auth change as the leader proposes it: userAdd and userChangePassword
// carry the salted hash instead of the password, authEnable a new random
// signing key. nullopt: the request goes as it came.
std::optional<std::string> seal_auth_change(const api::ParsedRequest& req);

// Fills the answer of an auth read (authenticate, user/role get and list,
// auth status). Errors: kUnauthenticated (wrong name or password), kNotFound.
// With auth disabled, authenticate answers an empty token.
Status fill_auth_read(const auth::AuthStore& store, schema::api::AuthRequest::Reader req, int64_t now_ms,
                      int64_t token_ttl_ms, schema::api::AuthResponse::Builder out);

}  // namespace corral::server
