// Cap'n Proto Data <-> byte strings, without copies where the caller keeps
// the bytes alive. Keys and values are Data (they need not be UTF-8).
#pragma once

#include <string>
#include <string_view>

#include <capnp/blob.h>

namespace corral::schema {

// Points at the message's bytes: valid while the message is.
inline std::string_view as_view(capnp::Data::Reader d) {
  return std::string_view(reinterpret_cast<const char*>(d.begin()), d.size());
}

inline std::string as_string(capnp::Data::Reader d) { return std::string(as_view(d)); }

// Points at `s`: valid while `s` is (a setter copies it into the message).
inline capnp::Data::Reader as_data(std::string_view s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

}  // namespace corral::schema
