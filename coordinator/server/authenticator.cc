#include "coordinator/server/authenticator.h"

#include "coordinator/api/errors.h"
#include "coordinator/auth/token.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::string failed_message() { return "authentication failed: wrong user name or password"; }

}  // namespace

Authenticator::Authenticator(std::function<void()> wake, LoginLimits limits)
    : limiter_(limits), worker_(std::move(wake)) {}

bool Authenticator::take(const net::ConnectionId& conn, const auth::AuthStore& store, wire::Request::Reader r,
                         const api::Header& header, Clock::time_point now, const Reply& reply) {
  if (!store.enabled() || !r.isAuth() || !r.getAuth().isAuthenticate()) return false;
  auto a = r.getAuth().getAuthenticate();
  const std::string name = text(a.getName());
  const std::string key = login_limiter_key(name, conn.routing_id);
  const auto wait = limiter_.wait_before_try(key, now);
  // Unauthenticated, not unavailable: clients retry unavailable on their
  // own, and each retry would be charged as another failure.
  if (wait.count() > 0) {
    ++limited_;
    reply(conn, api::encode_error(r.getId(), header,
                                  api::wire_error(wire::ErrorCode::UNAUTHENTICATED,
                                                  "too many failed authentications of user " + name +
                                                      " from this connection; retry in " +
                                                      std::to_string(wait.count()) + " ms")));
    return true;
  }
  // Charged now, refunded on success: checks in flight count, so many
  // attempts sent at once cannot all pass before the first one fails.
  limiter_.failed(key, now);
  const auth::User* u = store.user(name);
  if (u == nullptr || u->password_hash.empty()) {
    reply(conn, api::encode_error(r.getId(), header, api::wire_error(wire::ErrorCode::UNAUTHENTICATED, failed_message())));
    return true;
  }
  PasswordCheck check{conn, r.getId(), name, text(a.getPassword()), u->password_hash, u->token_revision, false};
  if (!worker_.submit(std::move(check))) {
    ++limited_;
    reply(conn, api::encode_error(r.getId(), header,
                                  api::wire_error(wire::ErrorCode::UNAVAILABLE,
                                                  "too many authentications in progress on this member; retry")));
  }
  return true;
}

void Authenticator::answer_done(const auth::AuthStore& store, int64_t now_ms, int64_t token_ttl_ms,
                                const api::Header& header, Clock::time_point now, const Reply& reply) {
  for (auto& c : worker_.take_done()) {
    const std::string key = login_limiter_key(c.user, c.connection.routing_id);
    const auth::User* u = store.user(c.user);
    // The user may have changed (password, deletion, auth disable) while
    // the worker hashed: such a check proves nothing now.
    if (!c.matched || !store.enabled() || u == nullptr || u->token_revision != c.token_revision) {
      reply(c.connection, api::encode_error(c.request_id, header,
                                            api::wire_error(wire::ErrorCode::UNAUTHENTICATED, failed_message())));
      continue;
    }
    limiter_.succeeded(key);
    api::ResponseBuilder b(c.request_id, header);
    b.response().initAuth().setAuthenticate(
        auth::mint_token({u->name, now_ms + token_ttl_ms, u->token_revision}, store.signing_key()));
    reply(c.connection, b.finish());
  }
}

}  // namespace corral::server
