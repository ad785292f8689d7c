// corral-agent's version: printed by --version, stored in the agent record.
#pragma once

namespace corral::agent::config {

inline constexpr const char* kAgentVersion = "0.1.0";

}  // namespace corral::agent::config
