// `corralctl snapshot restore` (etcdutl's): a new member's data dir made
// from a snapshot file, that corrald starts as a member of a *new* cluster.
//
// What it writes is what bootstrap writes for a new cluster (identity,
// cluster id, member table, voters in the conf state, an empty raft log)
// plus the snapshot's key space, revisions and leases. Left out of the
// image: the old member table, the old removed table and the old cluster
// id. The key-space state's applied index is set to 0, since the new raft
// log starts at index 1 (an old applied index would make apply skip the new
// cluster's first entries).
//
// Every member of the new cluster is restored from the same file with the
// same --initial-cluster and --initial-cluster-token, and they agree on ids
// without talking: the cluster id and member ids are hashes of those and of
// the snapshot's digest, with a salt that no bootstrapped cluster uses, so
// that they differ from the old cluster's (whose members' messages the new
// cluster then refuses).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/base/error.h"
#include "coordinator/server/members.h"
#include "coordinator/server/snapshot_file.h"

namespace corral::server {

struct RestoreOptions {
  std::string name;                // this member, one of initial_cluster
  std::string initial_cluster;     // name=peer-url,...
  std::string advertise_peer;      // must be the peer URL initial_cluster gives `name`; empty: that one
  std::string data_dir;            // must not exist or be empty
  std::string cluster_token;       // etcd's --initial-cluster-token; any text
};

struct RestoreOutcome {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  std::vector<MemberInfo> members;
  int64_t revision = 0;
};

// The ids a restore of `snapshot_digest_hex` gives (also what restore_data_dir uses).
uint64_t restored_cluster_id(const std::vector<MemberInfo>& members, const std::string& cluster_token,
                             const std::string& snapshot_digest_hex);
uint64_t restored_member_id(const std::string& name, const std::vector<MemberInfo>& members,
                            const std::string& cluster_token, const std::string& snapshot_digest_hex);

// kBadRequest (nothing written) for flags that do not fit together, a
// data dir that holds anything, or a key-space state that does not decode;
// kStorage if writing fails (the data dir is removed again if it was created).
Result<RestoreOutcome> restore_data_dir(const RestoreOptions& options, const SnapshotFile& snapshot);

}  // namespace corral::server
