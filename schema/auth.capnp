# Stored records of the auth store (coordinator/auth/auth_store.h), in space
# kKvMeta under the prefix "auth/", so that they ride in every snapshot image
# with the key space. One flat Cap'n Proto message per value. Field numbers
# are forever.
@0xb06b6ad87ed3c432;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("corral::schema::auth");

# Key "auth/state": the enabled flag, the token signing key and the revision
# that every change of the auth store raises by one.
struct AuthStateRecord {
  enabled @0 :Bool;
  signingKey @1 :Data;     # 32 random bytes chosen by the leader at enable; never sent to clients
  revision @2 :UInt64;
}

# Key "auth/user/<name>".
struct UserRecord {
  name @0 :Text;
  passwordHash @1 :Data;   # see coordinator/auth/password.h; empty: no password login
  roles @2 :List(Text);    # sorted, unique
  # The auth revision of the user's creation or last password change: a
  # token names it, so a token outlives neither the user nor its password.
  tokenRevision @3 :UInt64;
}

# Key "auth/role/<name>".
struct RoleRecord {
  name @0 :Text;
  perms @1 :List(PermissionRecord);   # sorted by (key, rangeEnd)
}

struct PermissionRecord {
  read @0 :Bool;
  write @1 :Bool;
  key @2 :Data;
  rangeEnd @3 :Data;       # empty: the key alone; "\0": every key >= key
}
