#include "coordinator/server/disk_reserve.h"

#include <sys/statvfs.h>

#include <utility>

#include "coordinator/server/log.h"

namespace corral::server {

namespace {
constexpr auto kLookInterval = std::chrono::seconds(1);
}  // namespace

DiskReserve::DiskReserve(std::string data_dir, uint64_t reserve_bytes)
    : data_dir_(std::move(data_dir)), reserve_bytes_(reserve_bytes) {}

bool DiskReserve::low(Clock::time_point now) {
  if (reserve_bytes_ == 0 || now < next_look_) return low_;
  next_look_ = now + kLookInterval;
  struct statvfs st {};
  if (::statvfs(data_dir_.c_str(), &st) != 0) return low_;
  free_bytes_ = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  const bool low = free_bytes_ < reserve_bytes_;
  if (low != low_) {
    if (low) {
      log_warn("data dir %s: %llu bytes free, below the reserve of %llu (--disk-reserve-bytes): raising NOSPACE",
               data_dir_.c_str(), static_cast<unsigned long long>(free_bytes_),
               static_cast<unsigned long long>(reserve_bytes_));
    } else {
      log_event("data dir %s: %llu bytes free, back above the reserve; `corralctl alarm disarm` lifts NOSPACE",
                data_dir_.c_str(), static_cast<unsigned long long>(free_bytes_));
    }
  }
  low_ = low;
  return low_;
}

}  // namespace corral::server
