// Whether a directory's file system takes O_DIRECT writes: the engine
// writes its table files (flushes, compactions) that way where it can.
#pragma once

#include <string>

namespace corral::storage {

// Writes one aligned 4 KiB block with O_DIRECT to a probe file in `dir`
// and removes it; false if the file system refuses (tmpfs before Linux
// 6.6, some FUSE file systems) or `dir` cannot be created or written.
// Creates `dir` if missing, as opening the engine would.
bool direct_io_works(const std::string& dir);

}  // namespace corral::storage
