#include "cli/member_add_hint.h"

namespace corral::cli {

std::string member_add_hint(const client::MemberListResult& r) {
  std::string cluster;
  for (const client::Member& m : r.members) {
    // A member added earlier that never started has a name from its add all the same.
    if (m.name.empty() || m.peer_urls.empty()) continue;
    cluster += (cluster.empty() ? "" : ",") + m.name + "=" + m.peer_urls.front();
  }
  const std::string& name = r.added.name;
  const std::string peer = r.added.peer_urls.empty() ? "" : r.added.peer_urls.front();
  std::string out;
  out += "\nCORRAL_NAME=\"" + name + "\"\n";
  out += "CORRAL_INITIAL_CLUSTER=\"" + cluster + "\"\n";
  out += "CORRAL_ADVERTISE_PEER=\"" + peer + "\"\n";
  out += "CORRAL_INITIAL_CLUSTER_STATE=\"existing\"\n";
  out += "\nStart it with an empty data dir:\n  corrald --name " + name + " --initial-cluster " + cluster +
         " --listen-peer " + peer + " --initial-cluster-state existing --listen-client URL";
  return out;
}

}  // namespace corral::cli
