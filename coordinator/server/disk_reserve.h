// This member's side of the NOSPACE alarm: the free space of its data dir's
// file system (statvfs, cheap), in three levels.
//  - fine: at or above --disk-reserve-bytes;
//  - low: below the reserve. The member asks for its NOSPACE alarm through
//    raft (alarms.h) and, without waiting for it to commit, refuses client
//    writes itself (a leader proposes none);
//  - critical: below the floor, half the reserve. The member stops growing
//    its data dir on its own: a follower drops the leader's appends and
//    snapshots (it serves stale reads and catches up once space is back, as
//    after a partition), no local snapshot starts, RocksDB's automatic
//    compactions (which write their output before deleting their input)
//    are switched off.
// The reserve is what lets a member write what still comes once it is low
// (the alarm, lease checkpoints, hard state, a disarm) and flush what it
// holds instead of meeting ENOSPC inside RocksDB, which stops it
// (storage_failure.h). Far from the reserve it looks once a second; within
// twice the reserve, every 20 ms, because a disk fills faster than a second
// (a flush, a compaction, another process).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace corral::server {

class DiskReserve {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Level { kFine, kLow, kCritical };
  // Free bytes of the data dir's file system; nullopt when it cannot tell.
  using FreeSpace = std::function<std::optional<uint64_t>()>;

  static constexpr std::chrono::milliseconds kFarLookInterval{1000};
  static constexpr std::chrono::milliseconds kNearLookInterval{20};

  // reserve_bytes 0: always fine. free_space: statvfs of data_dir unless given.
  DiskReserve(std::string data_dir, uint64_t reserve_bytes, FreeSpace free_space = {});

  // Looks again when due (see above); the level as of the last look. A
  // failed look keeps the last level.
  Level look(Clock::time_point now);
  Level level() const { return level_; }
  bool was_low() const { return level_ != Level::kFine; }
  bool was_critical() const { return level_ == Level::kCritical; }
  uint64_t free_bytes() const { return free_bytes_; }
  uint64_t reserve_bytes() const { return reserve_bytes_; }
  uint64_t floor_bytes() const { return reserve_bytes_ / 2; }

 private:
  Level level_for(uint64_t free_bytes) const;
  void log_change(Level from, Level to) const;

  std::string data_dir_;
  uint64_t reserve_bytes_;
  FreeSpace free_space_;
  Clock::time_point next_look_{};
  Level level_ = Level::kFine;
  uint64_t free_bytes_ = 0;
};

const char* level_name(DiskReserve::Level level);

}  // namespace corral::server
