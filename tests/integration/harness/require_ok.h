// REQUIRE that a client call succeeded, printing its error otherwise.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "client/client.h"

namespace corral::integration {

template <class T>
T require_ok(client::Result<T> r, const std::string& what) {
  INFO(what << ": " << (r.ok() ? std::string("ok") : client::to_string(r.error())));
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline void require_ok(const client::Status& s, const std::string& what) {
  INFO(what << ": " << (s.ok() ? std::string("ok") : client::to_string(s.error())));
  REQUIRE(s.ok());
}

}  // namespace corral::integration
