// NodeLoop: this member's side of the NOSPACE alarm (alarms.h,
// disk_reserve.h). A member whose data dir is below its reserve asks for
// its alarm, through the leader, at most once a second until the alarm
// stands (a disarm while the disk is still low raises it again).
#include "coordinator/server/node_loop.h"

#include "coordinator/server/alarms.h"
#include "coordinator/server/command.h"
#include "coordinator/server/log.h"

namespace corral::server {

void NodeLoop::report_low_disk() {
  const auto now = Clock::now();
  if (!disk_reserve_.low(now) || state_->alarms().has(self_id_) || now < next_nospace_report_) return;
  if (soft_.leader == raft::kNoNode) return;
  next_nospace_report_ = now + std::chrono::seconds(1);
  if (is_leader()) {
    propose_nospace(self_id_);
    return;
  }
  (void)transport_->send(soft_.leader, std::string(kNoSpaceFrameTag));
}

void NodeLoop::propose_nospace(uint64_t member_id) {
  log_event("raising the NOSPACE alarm for member %016llx", static_cast<unsigned long long>(member_id));
  CommandWriter w(0);
  w.add(0, encode_nospace_raise(member_id));
  (void)raw_->propose(w.take());
}

}  // namespace corral::server
