// Refusing to bootstrap a member the running cluster already knows as
// started (etcd: "member has already been bootstrapped").
//
// A member with an empty data dir and --initial-cluster-state new would
// otherwise write a fresh initial history under its old id while its peers
// run: its data dir was wiped, or it is a copy of a member's flags. Before
// writing anything it asks the other members of --initial-cluster, with the
// join query of join_discovery.h, for one election timeout, within
// [kBootstrapProbeMs, kMaxBootstrapProbeMs] (running peers answer in ms),
// and up to kBootstrapProbeConnectedMs while a peer's connection is up and
// that peer is not probing too: a member runs there and will answer, if
// late on a loaded machine (at load 14 a running peer's answer missed the
// 300 ms, and the wiped member bootstrapped again, 2 of 8 runs). A member that answers with this member's
// record and client URLs in it (published only once the member has served)
// proves that the member ran before: the start is refused. Nobody answering
// (the normal first start of a cluster), or a record without client URLs
// (peers started first), lets the bootstrap go on.
#pragma once

#include <chrono>

#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/server/node.h"

namespace corral::server {

inline constexpr std::chrono::milliseconds kBootstrapProbeMs{300};
// Every member of a cluster started one after another waits this long.
inline constexpr std::chrono::milliseconds kMaxBootstrapProbeMs{1000};
// A peer that runs (its connection is up) is waited for this long in all.
inline constexpr std::chrono::milliseconds kBootstrapProbeConnectedMs{5000};

// kBadRequest saying what to do when the cluster already knows this member
// as started; OK otherwise (also when there is nobody to ask). `probed`:
// the peer port was bound and closed again (its rebind may need retries).
Status refuse_bootstrapped_member(zmq::context_t& context, const NodeOptions& options, bool& probed);

}  // namespace corral::server
