// Why a request found no member to serve it, told to the operator instead
// of a bare "unreachable": each endpoint is asked for its status (briefly);
// one that answers names the leader it knows, and one that does not is
// probed at the TCP level, so that a member that is down, a port where
// nothing listens and a port that answers but is no corral member read
// differently. "no leader: 1 of 3 members reachable" is the lost-quorum case.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "client/client.h"

namespace corral::cli {

inline constexpr std::chrono::milliseconds kDiagnosisStatusTimeoutMs{700};
inline constexpr std::chrono::milliseconds kDiagnosisTcpTimeoutMs{300};

struct EndpointFinding {
  std::string endpoint;
  bool answered = false;       // a corral member answered its status
  uint64_t leader = 0;         // the leader it knows (answered only)
  bool tcp_open = false;       // not answered: something accepts TCP connections there
};

std::vector<EndpointFinding> probe_endpoints(client::Client& client, const std::vector<std::string>& endpoints);
// Lines to print after the error; empty when every endpoint answered and knows a leader.
std::string explain(const std::vector<EndpointFinding>& findings);

}  // namespace corral::cli
