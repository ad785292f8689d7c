// The few POSIX file operations the file sink needs, each retrying EINTR
// and answering typed errors that name the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/sink/error.h"

namespace corral::agent::sink {

// mkdir -p. Each directory it creates is made durable by an fsync of its
// parent, so that a file created below it is still reachable after a crash.
Status make_dirs(const std::string& path);

// fsync of a directory: makes the names created in it durable.
Status sync_dir(const std::string& path);

// Writes all of `bytes` (a short write is continued, not reported).
Status write_all(int fd, std::string_view bytes, std::string_view path);

// fdatasync: the data and the size needed to read it back (an O_APPEND file
// grows, and fdatasync does flush a size change), without the mtime.
Status sync_file(int fd, std::string_view path);

// The file's size.
Result<off_t> file_size(int fd, std::string_view path);

// Cuts a partial last line (a crash in the middle of a write) so that the
// next append starts on a line boundary. Safe for the checkpoint protocol:
// only whole lines are ever made durable before a checkpoint, so a partial
// tail lies past the last checkpoint and will be fetched again whole.
Status trim_partial_tail(int fd, std::string_view path);

}  // namespace corral::agent::sink
