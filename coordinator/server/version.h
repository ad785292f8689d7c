// The member's version: `corrald --version` and the status response.
#pragma once

namespace corral::server {

inline constexpr const char* kVersion = "corral 0.1.0";

}  // namespace corral::server
