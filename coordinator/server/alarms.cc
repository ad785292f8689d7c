#include "coordinator/server/alarms.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <cstdlib>

#include "coordinator/api/errors.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

constexpr std::string_view kAlarmKeyPrefix = "alarm/";
// Nested txns are bounded by the request decoder; this bounds our walk too.
constexpr int kMaxTxnDepth = 16;

std::string alarm_key(uint64_t member_id) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(member_id));
  return std::string(kAlarmKeyPrefix) + hex;
}

bool txn_writes(wire::TxnRequest::Reader txn, int depth) {
  if (depth > kMaxTxnDepth) return true;
  for (auto ops : {txn.getSuccess(), txn.getFailure()}) {
    for (auto op : ops) {
      switch (op.which()) {
        case wire::RequestOp::RANGE: break;
        case wire::RequestOp::TXN:
          if (txn_writes(op.getTxn(), depth + 1)) return true;
          break;
        default: return true;
      }
    }
  }
  return false;
}

}  // namespace

Status AlarmTable::load(const storage::Engine& engine) {
  alarms_.clear();
  std::string upper(kAlarmKeyPrefix);
  upper.back() = static_cast<char>(upper.back() + 1);
  auto it = engine.scan(storage::Space::kKvMeta, kAlarmKeyPrefix, upper);
  for (; it->valid(); it->next()) {
    std::string_view key = it->key().substr(kAlarmKeyPrefix.size());
    uint64_t id = std::strtoull(std::string(key).c_str(), nullptr, 16);
    alarms_[id] = Kind::NO_SPACE;
  }
  return it->status();
}

Status AlarmTable::apply(wire::AlarmRequest::Reader request, storage::WriteBatch& batch) {
  const uint64_t member = request.getMemberId();
  switch (request.getAction()) {
    case wire::AlarmAction::RAISE:
      if (member == 0) return make_error(ErrorCode::kBadRequest, "alarm raise: no member id");
      if (request.getAlarm() != Kind::NO_SPACE) return make_error(ErrorCode::kBadRequest, "alarm raise: unknown alarm");
      alarms_[member] = Kind::NO_SPACE;
      batch.put(storage::Space::kKvMeta, alarm_key(member), "nospace");
      return {};
    case wire::AlarmAction::DISARM:
      for (auto it = alarms_.begin(); it != alarms_.end();) {
        if (member != 0 && it->first != member) {
          ++it;
          continue;
        }
        batch.del(storage::Space::kKvMeta, alarm_key(it->first));
        it = alarms_.erase(it);
      }
      return {};
    case wire::AlarmAction::LIST: break;
  }
  return make_error(ErrorCode::kBadRequest, "alarm: not a replicated action");
}

void AlarmTable::fill(wire::AlarmResponse::Builder out) const {
  auto list = out.initAlarms(static_cast<unsigned>(alarms_.size()));
  unsigned i = 0;
  for (const auto& [id, kind] : alarms_) {
    list[i].setMemberId(id);
    list[i].setAlarm(kind);
    ++i;
  }
}

bool is_replicated_maintenance(wire::MaintenanceRequest::Reader request) {
  return request.isAlarm() && request.getAlarm().getAction() != wire::AlarmAction::LIST;
}

std::optional<api::WireError> nospace_refusal(const AlarmTable& alarms, wire::Request::Reader request,
                                              bool disk_low) {
  if (disk_low && request.isMaintenance() && request.getMaintenance().isAlarm() &&
      request.getMaintenance().getAlarm().getAction() == wire::AlarmAction::DISARM) {
    return api::wire_error(wire::ErrorCode::NO_SPACE,
                           "alarm disarm refused: a member's data dir is still below its free-space reserve "
                           "(--disk-reserve-bytes); free space first");
  }
  if (!alarms.any() && !disk_low) return std::nullopt;
  bool grows = false;
  switch (request.which()) {
    case wire::Request::PUT:
    case wire::Request::DELETE_RANGE:
    case wire::Request::LEASE_GRANT:
    case wire::Request::LEASE_GRANT_BATCH: grows = true; break;
    case wire::Request::TXN: grows = txn_writes(request.getTxn(), 0); break;
    default: break;
  }
  if (!grows) return std::nullopt;
  if (!alarms.any()) {
    // Before our own alarm commits: the proposal would grow our data dir first.
    return api::wire_error(wire::ErrorCode::NO_SPACE,
                           "a member's data dir is below its free-space reserve (--disk-reserve-bytes); writes "
                           "are refused while its NOSPACE alarm is raised");
  }
  char first[17];
  std::snprintf(first, sizeof(first), "%016llx", static_cast<unsigned long long>(alarms.all().begin()->first));
  return api::wire_error(wire::ErrorCode::NO_SPACE,
                         std::string("NOSPACE alarm: member ") + first +
                             "'s data dir is below its free-space reserve; writes are refused until space is "
                             "freed and the alarm disarmed (corralctl alarm list / alarm disarm)");
}

std::string encode_nospace_raise(uint64_t member_id) {
  capnp::MallocMessageBuilder message;
  auto req = message.initRoot<wire::Request>();
  auto alarm = req.initMaintenance().initAlarm();
  alarm.setAction(wire::AlarmAction::RAISE);
  alarm.setMemberId(member_id);
  alarm.setAlarm(wire::AlarmType::NO_SPACE);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace corral::server
