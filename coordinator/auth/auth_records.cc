#include "coordinator/auth/auth_records.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "schema/aligned_words.h"
#include "schema/auth.capnp.h"
#include "schema/data_bytes.h"

namespace corral::auth {

namespace rec = corral::schema::auth;

namespace {

std::string flat(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

template <typename Record, typename T, typename Fill>
Result<T> decode(std::string_view value, const char* what, Fill fill) {
  auto words = schema::aligned_words(value);
  if (!words) return make_error(ErrorCode::kStorage, std::string(what) + " record has a bad length");
  try {
    capnp::FlatArrayMessageReader reader(*words);
    T out;
    fill(reader.getRoot<Record>(), out);
    return out;
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kStorage, std::string(what) + " record: " + e.getDescription().cStr());
  }
}

}  // namespace

std::string encode_state(const AuthState& s) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<rec::AuthStateRecord>();
  root.setEnabled(s.enabled);
  root.setSigningKey(schema::as_data(s.signing_key));
  root.setRevision(s.revision);
  return flat(message);
}

std::string encode_user(const User& u) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<rec::UserRecord>();
  root.setName(u.name);
  root.setPasswordHash(schema::as_data(u.password_hash));
  auto roles = root.initRoles(static_cast<unsigned>(u.roles.size()));
  for (size_t i = 0; i < u.roles.size(); ++i) roles.set(static_cast<unsigned>(i), u.roles[i]);
  root.setTokenRevision(u.token_revision);
  return flat(message);
}

std::string encode_role(const Role& r) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<rec::RoleRecord>();
  root.setName(r.name);
  auto perms = root.initPerms(static_cast<unsigned>(r.perms.size()));
  for (size_t i = 0; i < r.perms.size(); ++i) {
    auto p = perms[static_cast<unsigned>(i)];
    p.setRead(r.perms[i].read);
    p.setWrite(r.perms[i].write);
    p.setKey(schema::as_data(r.perms[i].key));
    p.setRangeEnd(schema::as_data(r.perms[i].range_end));
  }
  return flat(message);
}

Result<AuthState> decode_state(std::string_view value) {
  return decode<rec::AuthStateRecord, AuthState>(value, "auth state", [](auto root, AuthState& s) {
    s.enabled = root.getEnabled();
    s.signing_key = schema::as_string(root.getSigningKey());
    s.revision = root.getRevision();
  });
}

Result<User> decode_user(std::string_view value) {
  return decode<rec::UserRecord, User>(value, "user", [](auto root, User& u) {
    u.name = text(root.getName());
    u.password_hash = schema::as_string(root.getPasswordHash());
    for (auto r : root.getRoles()) u.roles.push_back(text(r));
    u.token_revision = root.getTokenRevision();
  });
}

Result<Role> decode_role(std::string_view value) {
  return decode<rec::RoleRecord, Role>(value, "role", [](auto root, Role& r) {
    r.name = text(root.getName());
    for (auto p : root.getPerms()) {
      r.perms.push_back(Permission{p.getRead(), p.getWrite(), schema::as_string(p.getKey()),
                                   schema::as_string(p.getRangeEnd())});
    }
  });
}

}  // namespace corral::auth
