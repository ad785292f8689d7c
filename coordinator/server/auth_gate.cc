#include "coordinator/server/auth_gate.h"

#include <capnp/message.h>

#include <chrono>

#include "coordinator/api/response.h"
#include "coordinator/auth/password.h"
#include "coordinator/auth/token.h"
#include "coordinator/kv/key_range.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace wire = corral::schema::api;
using auth::Access;

namespace {

std::string_view text(capnp::Text::Reader t) { return std::string_view(t.cStr(), t.size()); }

// A key as a person reads it in an error: printable bytes as they are, the
// rest as \xNN.
std::string printable(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string who(std::string_view user) { return user.empty() ? "anonymous (no token)" : "user " + std::string(user); }

api::WireError denied(std::string_view user, std::string what) {
  return api::wire_error(wire::ErrorCode::PERMISSION_DENIED, who(user) + " may not " + what);
}

std::string range_text(std::string_view key, std::string_view range_end) {
  if (range_end.empty()) return "key " + printable(key);
  if (range_end == kv::kRangeEndAll) return "keys from " + printable(key) + " on";
  if (range_end == kv::prefix_end(key)) return "keys under " + printable(key);
  return "keys [" + printable(key) + ", " + printable(range_end) + ")";
}

// Checks every key access of the request; the first one refused wins.
class Checker {
 public:
  Checker(const auth::AuthStore& store, std::string_view user) : store_(store), user_(user) {}

  std::optional<api::WireError> range(std::string_view key, std::string_view range_end, Access access) const {
    if (store_.check(user_, key, range_end, access)) return std::nullopt;
    return denied(user_, std::string(access == Access::kRead ? "read " : "write ") + range_text(key, range_end));
  }
  std::optional<api::WireError> range(capnp::Data::Reader key, capnp::Data::Reader range_end, Access access) const {
    return range(schema::as_view(key), schema::as_view(range_end), access);
  }

  // etcd's rule: every compare needs read, every op of both branches its
  // access, whichever branch would run.
  std::optional<api::WireError> txn(wire::TxnRequest::Reader t) const {
    for (auto c : t.getCompare()) {
      if (auto e = range(c.getKey(), c.getRangeEnd(), Access::kRead)) return e;
    }
    for (auto ops : {t.getSuccess(), t.getFailure()}) {
      for (auto op : ops) {
        std::optional<api::WireError> e;
        switch (op.which()) {
          case wire::RequestOp::RANGE: e = range(op.getRange().getKey(), op.getRange().getRangeEnd(), Access::kRead); break;
          case wire::RequestOp::PUT: e = range(op.getPut().getKey(), {}, Access::kWrite); break;
          case wire::RequestOp::DELETE_RANGE:
            e = range(op.getDeleteRange().getKey(), op.getDeleteRange().getRangeEnd(), Access::kWrite);
            break;
          case wire::RequestOp::TXN: e = txn(op.getTxn()); break;
        }
        if (e) return e;
      }
    }
    return std::nullopt;
  }

  std::optional<api::WireError> root(std::string what) const {
    if (store_.is_root(user_)) return std::nullopt;
    return denied(user_, what + " (needs the role root)");
  }
  std::optional<api::WireError> known(std::string what) const {
    if (store_.user(user_) != nullptr) return std::nullopt;
    return denied(user_, what);
  }
  // The user itself or root.
  std::optional<api::WireError> self_or_root(std::string_view name, std::string what) const {
    if (name == user_ && store_.user(user_) != nullptr) return std::nullopt;
    return root(what);
  }

 private:
  const auth::AuthStore& store_;
  std::string_view user_;
};

std::optional<api::WireError> authorize_auth(const Checker& check, wire::AuthRequest::Reader a) {
  switch (a.which()) {
    case wire::AuthRequest::AUTHENTICATE:
    case wire::AuthRequest::AUTH_STATUS:
      return std::nullopt;
    case wire::AuthRequest::USER_GET:
      return check.self_or_root(text(a.getUserGet().getName()), "read another user");
    case wire::AuthRequest::USER_CHANGE_PASSWORD:
      return check.self_or_root(text(a.getUserChangePassword().getName()), "change another user's password");
    default:
      return check.root("administer users, roles and auth");
  }
}

}  // namespace

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::string> identify(const auth::AuthStore& store, wire::Request::Reader r, std::string_view transport_user,
                             int64_t now_ms) {
  if (!store.enabled()) return std::string();
  if (r.hasToken() && r.getToken().size() > 0) {
    auto claims = auth::verify_token(text(r.getToken()), store.signing_key(), now_ms);
    if (!claims.ok()) return claims.error();
    auto* u = store.user(claims->user);
    if (u == nullptr) return make_error(ErrorCode::kUnauthenticated, "invalid auth token: user " + claims->user + " is gone");
    if (u->token_revision != claims->token_revision) {
      return make_error(ErrorCode::kUnauthenticated, "invalid auth token: user " + claims->user + " was changed since");
    }
    return claims->user;
  }
  return std::string(transport_user);
}

std::optional<api::WireError> authorize(const auth::AuthStore& store, const lease::Lessor& lessor,
                                        std::string_view user, wire::Request::Reader r) {
  if (!store.enabled() || store.is_root(user)) return std::nullopt;
  Checker check(store, user);
  switch (r.which()) {
    case wire::Request::RANGE:
      return check.range(r.getRange().getKey(), r.getRange().getRangeEnd(), Access::kRead);
    case wire::Request::LIST: {
      std::string dir = schema::as_string(r.getList().getDir());
      if (dir.empty() || dir.back() != '/') dir.push_back('/');
      return check.range(dir, kv::prefix_end(dir), Access::kRead);
    }
    case wire::Request::PUT:
      return check.range(r.getPut().getKey(), {}, Access::kWrite);
    case wire::Request::DELETE_RANGE:
      return check.range(r.getDeleteRange().getKey(), r.getDeleteRange().getRangeEnd(), Access::kWrite);
    case wire::Request::TXN:
      return check.txn(r.getTxn());
    case wire::Request::LEASE_GRANT:
      if (auto e = check.known("use leases")) return e;
      for (auto p : r.getLeaseGrant().getPuts()) {
        if (auto e = check.range(p.getKey(), {}, Access::kWrite)) return e;
      }
      return std::nullopt;
    case wire::Request::LEASE_GRANT_BATCH:
      // Refused whole if any key is not the user's to write.
      if (auto e = check.known("use leases")) return e;
      for (auto g : r.getLeaseGrantBatch().getGrants()) {
        for (auto p : g.getPuts()) {
          if (auto e = check.range(p.getKey(), {}, Access::kWrite)) return e;
        }
      }
      return std::nullopt;
    case wire::Request::LEASE_REVOKE: {
      if (auto e = check.known("use leases")) return e;
      // As etcd: revoking deletes the lease's keys, so it needs write on each.
      if (auto* lease = lessor.lookup(r.getLeaseRevoke().getId())) {
        for (const auto& key : lease->keys) {
          if (auto e = check.range(key, {}, Access::kWrite)) return e;
        }
      }
      return std::nullopt;
    }
    case wire::Request::LEASE_KEEP_ALIVE:
    case wire::Request::LEASE_KEEP_ALIVE_BATCH:
    case wire::Request::LEASE_TIME_TO_LIVE:
    case wire::Request::LEASE_LEASES:
      return check.known("use leases");
    case wire::Request::WATCH_CREATE:
      return check.range(r.getWatchCreate().getKey(), r.getWatchCreate().getRangeEnd(), Access::kRead);
    case wire::Request::WATCH_CANCEL:
    case wire::Request::WATCH_PROGRESS:
    case wire::Request::MEMBER_LIST:
    case wire::Request::STATUS:
      return std::nullopt;
    case wire::Request::COMPACTION: return check.root("compact");
    case wire::Request::SNAPSHOT: return check.root("take a snapshot");
    case wire::Request::DEFRAGMENT: return check.root("defragment");
    case wire::Request::MAINTENANCE:
      // Alarms too, as etcd: raising one stops every write of the cluster.
      return check.root(r.getMaintenance().isAlarm() ? "raise, disarm or list alarms" : "run maintenance (hashkv)");
    case wire::Request::MEMBER_ADD:
    case wire::Request::MEMBER_REMOVE:
    case wire::Request::MEMBER_PROMOTE:
    case wire::Request::MOVE_LEADER:
      return check.root("change members");
    case wire::Request::AUTH:
      return authorize_auth(check, r.getAuth());
  }
  return check.root("make this request");
}

std::optional<std::string> seal_auth_change(const api::ParsedRequest& req) {
  if (req.which() != wire::Request::AUTH) return std::nullopt;
  auto a = req.get().getAuth();
  capnp::MallocMessageBuilder message;
  message.setRoot(req.get());
  auto out = message.getRoot<wire::Request>().getAuth();
  out.setHashedPassword(capnp::Data::Reader());
  out.setSigningKey(capnp::Data::Reader());
  switch (a.which()) {
    case wire::AuthRequest::USER_ADD:
    case wire::AuthRequest::USER_CHANGE_PASSWORD: {
      auto u = a.isUserAdd() ? a.getUserAdd() : a.getUserChangePassword();
      if (!u.getNoPassword()) out.setHashedPassword(schema::as_data(auth::hash_password(text(u.getPassword()))));
      auto inner = out.isUserAdd() ? out.getUserAdd() : out.getUserChangePassword();
      inner.setPassword("");  // never in the raft log
      break;
    }
    case wire::AuthRequest::AUTH_ENABLE:
      out.setSigningKey(schema::as_data(auth::random_bytes(auth::kSigningKeyBytes)));
      break;
    default:
      break;
  }
  return api::to_flat_bytes(message);
}

Status fill_auth_read(const auth::AuthStore& store, wire::AuthRequest::Reader req, int64_t now_ms,
                      int64_t token_ttl_ms, wire::AuthResponse::Builder out) {
  switch (req.which()) {
    case wire::AuthRequest::AUTHENTICATE: {
      auto a = req.getAuthenticate();
      // Nothing to prove while auth is off: an empty token (no token at all).
      if (!store.enabled()) {
        out.setAuthenticate("");
        return Status();
      }
      auto* u = store.user(text(a.getName()));
      if (u == nullptr || u->password_hash.empty() || !auth::verify_password(text(a.getPassword()), u->password_hash)) {
        return make_error(ErrorCode::kUnauthenticated, "authentication failed: wrong user name or password");
      }
      out.setAuthenticate(auth::mint_token({u->name, now_ms + token_ttl_ms, u->token_revision}, store.signing_key()));
      return Status();
    }
    case wire::AuthRequest::USER_GET: {
      auto* u = store.user(text(req.getUserGet().getName()));
      if (u == nullptr) return make_error(ErrorCode::kNotFound, "user " + std::string(text(req.getUserGet().getName())) + " not found");
      auto info = out.initUser();
      info.setName(u->name);
      auto roles = info.initRoles(static_cast<unsigned>(u->roles.size()));
      for (size_t i = 0; i < u->roles.size(); ++i) roles.set(static_cast<unsigned>(i), u->roles[i]);
      return Status();
    }
    case wire::AuthRequest::ROLE_GET: {
      auto name = text(req.getRoleGet().getName());
      if (!store.role_exists(name)) return make_error(ErrorCode::kNotFound, "role " + std::string(name) + " not found");
      auto info = out.initRole();
      info.setName(capnp::Text::Reader(name.data(), name.size()));
      auto* r = store.role(name);
      size_t n = r ? r->perms.size() : 0;
      auto perms = info.initPerms(static_cast<unsigned>(n));
      for (size_t i = 0; i < n; ++i) {
        const auto& p = r->perms[i];
        auto w = perms[static_cast<unsigned>(i)];
        w.setType(p.read && p.write ? wire::Permission::Type::READWRITE
                  : p.read          ? wire::Permission::Type::READ
                                    : wire::Permission::Type::WRITE);
        w.setKey(schema::as_data(p.key));
        w.setRangeEnd(schema::as_data(p.range_end));
      }
      return Status();
    }
    case wire::AuthRequest::USER_LIST:
    case wire::AuthRequest::ROLE_LIST: {
      auto names = req.isUserList() ? store.user_names() : store.role_names();
      auto list = out.initNames(static_cast<unsigned>(names.size()));
      for (size_t i = 0; i < names.size(); ++i) list.set(static_cast<unsigned>(i), names[i]);
      return Status();
    }
    case wire::AuthRequest::AUTH_STATUS: {
      auto s = out.initStatus();
      s.setEnabled(store.enabled());
      s.setAuthRevision(store.revision());
      return Status();
    }
    default:
      return make_error(ErrorCode::kBadRequest, "auth request kind is not a read");
  }
}

}  // namespace corral::server
