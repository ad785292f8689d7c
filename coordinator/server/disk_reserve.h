// This member's side of the NOSPACE alarm: the free space of its data
// dir's file system, looked at once a second (statvfs, cheap). Below
// --disk-reserve-bytes the member asks for its alarm through raft (see
// alarms.h); the reserve is what lets it go on appending the raft entries
// that still come (the alarm itself, lease checkpoints, heartbeats' hard
// state, a disarm) and flush what it holds, instead of meeting ENOSPC inside
// RocksDB. A disk that fills faster than that, or past the reserve, ends in
// the storage-failure stop (storage_failure.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace corral::server {

class DiskReserve {
 public:
  using Clock = std::chrono::steady_clock;
  // reserve_bytes 0: never low.
  DiskReserve(std::string data_dir, uint64_t reserve_bytes);

  // Looks again when a second has passed since the last look; true while
  // the free space is below the reserve. A failed statvfs keeps the last
  // verdict.
  bool low(Clock::time_point now);
  // The last verdict, without looking.
  bool was_low() const { return low_; }
  uint64_t free_bytes() const { return free_bytes_; }
  uint64_t reserve_bytes() const { return reserve_bytes_; }

 private:
  std::string data_dir_;
  uint64_t reserve_bytes_;
  Clock::time_point next_look_{};
  bool low_ = false;
  uint64_t free_bytes_ = 0;
};

}  // namespace corral::server
