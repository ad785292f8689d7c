#include "coordinator/server/bootstrap_probe.h"

#include <algorithm>
#include <cstdio>

#include "coordinator/net/endpoint.h"
#include "coordinator/server/join_discovery.h"
#include "coordinator/server/log.h"
#include "coordinator/server/members.h"

namespace corral::server {

Status refuse_bootstrapped_member(zmq::context_t& context, const NodeOptions& o, bool& probed) {
  if (o.in_memory || o.initial_cluster.empty()) return Status();
  auto members = parse_initial_cluster(o.initial_cluster);
  if (!members.ok()) return Status();  // the start-up checks name what is wrong
  JoinRequest req;
  req.name = o.name;
  req.listen_peer = o.listen_peer;
  req.peer_wire = o.peer_wire;
  auto adv = net::parse_endpoint(o.advertise_peer.empty() ? o.listen_peer : o.advertise_peer, net::EndpointUse::kConnect);
  // A port chosen at bind time is new: no peer can know it.
  if (!adv.ok() || adv->port == 0) return Status();
  req.advertise_peer = adv->to_zmq();
  if (Status s = add_contacts(req, *members, o.name, o.curve.get()); !s.ok()) return s;
  if (req.contacts.empty()) return Status();
  req.timeout = std::clamp(std::chrono::milliseconds(int64_t{o.tick_ms} * o.election_ticks), kBootstrapProbeMs,
                           kMaxBootstrapProbeMs);
  req.timeout_while_connected = kBootstrapProbeConnectedMs;
  req.log_joining = false;
  log_event("new member %s: asking %zu members for %lld ms (%lld ms if one is connected) whether the cluster "
            "already knows it as started",
            o.name.c_str(), req.contacts.size(), static_cast<long long>(req.timeout.count()),
            static_cast<long long>(req.timeout_while_connected.count()));
  probed = true;
  auto known = discover_membership(context, req);
  if (!known.ok() || known->self.client_urls.empty()) return Status();
  char ids[64];
  std::snprintf(ids, sizeof(ids), "%016llx of cluster %016llx", static_cast<unsigned long long>(known->self.id),
                static_cast<unsigned long long>(known->cluster_id));
  return make_error(ErrorCode::kBadRequest,
                    "member " + o.name + " (id " + ids + ") has already been bootstrapped: the running cluster "
                    "knows it as started, but --data-dir " + o.data_dir + " is empty. Restore its data dir, or "
                    "remove it (member remove), add it again (member add) and start it with "
                    "--initial-cluster-state existing");
}

}  // namespace corral::server
