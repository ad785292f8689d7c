#include "coordinator/server/disk_reserve.h"

#include <sys/statvfs.h>

#include <utility>

#include "coordinator/server/log.h"

namespace corral::server {

namespace {

std::optional<uint64_t> statvfs_free(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace

const char* level_name(DiskReserve::Level level) {
  switch (level) {
    case DiskReserve::Level::kFine: return "fine";
    case DiskReserve::Level::kLow: return "low";
    case DiskReserve::Level::kCritical: return "critical";
  }
  return "unknown";
}

DiskReserve::DiskReserve(std::string data_dir, uint64_t reserve_bytes, FreeSpace free_space)
    : data_dir_(std::move(data_dir)), reserve_bytes_(reserve_bytes), free_space_(std::move(free_space)) {
  if (!free_space_) free_space_ = [dir = data_dir_] { return statvfs_free(dir); };
}

DiskReserve::Level DiskReserve::level_for(uint64_t free_bytes) const {
  if (free_bytes < floor_bytes()) return Level::kCritical;
  if (free_bytes < reserve_bytes_) return Level::kLow;
  return Level::kFine;
}

DiskReserve::Level DiskReserve::look(Clock::time_point now) {
  if (reserve_bytes_ == 0 || now < next_look_) return level_;
  auto free = free_space_();
  if (!free) {
    next_look_ = now + kFarLookInterval;
    return level_;
  }
  free_bytes_ = *free;
  // Saturating: a reserve near 2^64 must not wrap.
  const uint64_t near = reserve_bytes_ > UINT64_MAX / 2 ? UINT64_MAX : 2 * reserve_bytes_;
  next_look_ = now + (free_bytes_ < near ? kNearLookInterval : kFarLookInterval);
  const Level level = level_for(free_bytes_);
  if (level != level_) log_change(level_, level);
  level_ = level;
  return level_;
}

void DiskReserve::log_change(Level from, Level to) const {
  const auto free = static_cast<unsigned long long>(free_bytes_);
  const auto reserve = static_cast<unsigned long long>(reserve_bytes_);
  const auto floor = static_cast<unsigned long long>(floor_bytes());
  if (to == Level::kCritical) {
    log_warn("data dir %s: %llu bytes free, below the floor of %llu (half of --disk-reserve-bytes): refusing the "
             "leader's appends and snapshots, no local snapshot or compaction until space is back",
             data_dir_.c_str(), free, floor);
  } else if (to == Level::kLow && from == Level::kFine) {
    log_warn("data dir %s: %llu bytes free, below the reserve of %llu (--disk-reserve-bytes): refusing writes, "
             "raising NOSPACE",
             data_dir_.c_str(), free, reserve);
  } else if (to == Level::kLow) {
    log_event("data dir %s: %llu bytes free, back above the floor of %llu: taking appends again", data_dir_.c_str(),
              free, floor);
  } else {
    log_event("data dir %s: %llu bytes free, back above the reserve%s; `corralctl alarm disarm` lifts NOSPACE",
              data_dir_.c_str(), free, from == Level::kCritical ? " (taking appends again)" : "");
  }
}

}  // namespace corral::server
