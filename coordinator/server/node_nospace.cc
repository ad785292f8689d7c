// NodeLoop: this member's side of the NOSPACE alarm (alarms.h,
// disk_reserve.h). A member whose data dir is below its reserve asks for
// its alarm, through the leader, at most once a second until the alarm
// stands (a disarm while the disk is still low raises it again); below the
// floor it also stops growing its data dir on its own, at once, without
// waiting for the alarm to commit (a disk fills in less time than a
// proposal can take when the cluster is loaded, and the alarm of a member
// that is already out of space may never be written by it).
#include "coordinator/server/node_loop.h"

#include "coordinator/server/alarms.h"
#include "coordinator/server/command.h"
#include "coordinator/server/log.h"

namespace corral::server {

void NodeLoop::report_low_disk() {
  const auto now = Clock::now();
  const auto before = disk_reserve_.level();
  const auto level = disk_reserve_.look(now);
  if ((before == DiskReserve::Level::kCritical) != (level == DiskReserve::Level::kCritical)) {
    // Compactions write their output before they delete their input.
    auto s = engine_->set_auto_compactions(level != DiskReserve::Level::kCritical);
    if (!s.ok()) log_warn("cannot switch RocksDB compactions: %s", s.error().message.c_str());
    if (level != DiskReserve::Level::kCritical && disk_refused_frames_ > 0) {
      log_event("took appends again after dropping %llu raft messages and snapshot chunks for lack of space",
                static_cast<unsigned long long>(disk_refused_frames_));
      disk_refused_frames_ = 0;
    }
  }
  if (level == DiskReserve::Level::kFine || now < next_nospace_report_) return;
  if (soft_.leader == raft::kNoNode) return;
  next_nospace_report_ = now + std::chrono::seconds(1);
  if (is_leader()) {
    if (!state_->alarms().has(self_id_)) propose_nospace(self_id_);
    return;
  }
  // Whatever this follower's own table says: below its floor it takes no
  // appends, so it may not have seen a disarm of its alarm. The leader
  // proposes only when the alarm does not stand.
  (void)transport_->send(soft_.leader, std::string(kNoSpaceFrameTag));
}

bool NodeLoop::refuse_for_disk(const raft::Message* msg) {
  if (!disk_reserve_.was_critical()) return false;
  // Appends and snapshots grow the log and the key space; everything else
  // (heartbeats, votes, read index) keeps this member a follower that
  // serves reads. The leader sees a slow follower and catches it up (by
  // probing, or with a snapshot) once it takes appends again.
  if (msg != nullptr && msg->type != raft::MessageType::kAppend && msg->type != raft::MessageType::kSnapshot) {
    return false;
  }
  ++disk_refused_frames_;
  return true;
}

namespace {
// Two report intervals: a member still low is never missed between reports.
constexpr auto kLowDiskReportTtl = std::chrono::seconds(2);
}  // namespace

bool NodeLoop::some_disk_low() {
  if (disk_reserve_.was_low()) return true;
  const auto now = Clock::now();
  std::erase_if(low_disk_reports_, [&](const auto& r) { return now - r.second > kLowDiskReportTtl; });
  return is_leader() && !low_disk_reports_.empty();
}

void NodeLoop::propose_nospace(uint64_t member_id) {
  log_event("raising the NOSPACE alarm for member %016llx", static_cast<unsigned long long>(member_id));
  CommandWriter w(0);
  w.add(0, encode_nospace_raise(member_id));
  (void)raw_->propose(w.take());
}

}  // namespace corral::server
