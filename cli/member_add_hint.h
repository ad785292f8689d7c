// What `member add` prints after the member list, as etcdctl does: how to
// start the new member so that it joins (its name, the cluster's members
// with their peer URLs, --initial-cluster-state existing), as corrald flags
// and as the CORRAL_* variables corrald reads.
#pragma once

#include <string>

#include "client/types.h"

namespace corral::cli {

// Lines to print; `added` is the member just added (in r.members too).
std::string member_add_hint(const client::MemberListResult& r);

}  // namespace corral::cli
