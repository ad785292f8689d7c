// Cutting whole lines out of a file at a position, with pread: the rules of
// FetchResponse.data (schema/agent.capnp) in one place. Reads at most
// max(max_bytes, max_line_bytes) bytes per call; keeps nothing between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/fetch/fetch_error.h"

namespace corral::agent::source {

struct LineChunk {
  std::string data;       // whole lines, each ending in '\n'; may be empty
  uint64_t consumed = 0;  // file bytes `data` covers (data may hold appended '\n's)
};

// Lines of the file `fd` from `offset` up to `size` (the caller's fstat):
//  - the whole lines within the first max_bytes bytes;
//  - if the first line is longer than max_bytes: that line alone, when it
//    fits in max_line_bytes (its '\n' included);
//  - if it is longer than max_line_bytes: its first max_line_bytes bytes with
//    a '\n' appended (the rest follows as further pieces);
//  - a last line without '\n' is held back (empty data) unless `finished`:
//    then it is returned with a '\n' appended.
// kUnavailable on an I/O error; a file shorter than `size` (truncated under
// us) reads as whatever it holds.
fetch::Result<LineChunk> read_lines(int fd, uint64_t offset, uint64_t size, size_t max_bytes,
                                    size_t max_line_bytes, bool finished);

}  // namespace corral::agent::source
