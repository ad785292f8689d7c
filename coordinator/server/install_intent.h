// The intent file of a snapshot install: a follower's received snapshot
// (metadata and state image) written whole to the data dir, and synced,
// before the install touches the state. The install then replaces the
// state in many small unlogged writes (snapshot_installer.h); a crash in
// the middle leaves the state half old, half new, and the next start
// finishes the install from this file before anything reads the state
// (finish_interrupted_install). So a data dir is always old state with an
// old raft log, or the snapshot's state with the snapshot's raft log.
//
// Format: "CRLINST1" | u32 metadata length | SnapshotMetadata record
// (raft_records.h) | state image (state_image.h). Written to <path>.tmp,
// synced, renamed, and the directory synced: a file at <path> is whole.
#pragma once

#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/raft/types.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"

namespace corral::server {

// Where a data dir keeps the intent file.
std::string install_intent_path(const std::string& data_dir);

struct InstallIntent {
  raft::SnapshotMetadata meta;
  std::string image;
};

// kStorage when the file cannot be written or synced.
Status write_install_intent(const std::string& path, const raft::SnapshotMetadata& meta, std::string_view image);
// kNotFound when there is none; kStorage when it cannot be read;
// kBadRequest when it is not an intent file.
Result<InstallIntent> read_install_intent(const std::string& path);
// Removes the file (no error if it is gone already).
Status remove_install_intent(const std::string& path);

}  // namespace corral::server
