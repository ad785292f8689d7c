// Reads only as much of a WAL (wal_format.h) as it takes to find where
// RocksDB's reader (db/log_reader.cc) would stop or skip without reporting.
#include "coordinator/storage/wal_tail_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "coordinator/storage/wal_format.h"

namespace corral::storage {

namespace {

using namespace wal_format;

// An intact record starts at `at`: a data type, a payload inside its block
// and the file, and a CRC that matches (a random one does 1 time in 2^32).
bool intact_record_at(std::string_view bytes, uint64_t at) {
  const uint64_t end = std::min<uint64_t>(block_end(at), bytes.size());
  if (at + kHeaderSize > end) return false;
  const Header h = header_at(bytes, at);
  if (h.type < kFullType || h.type > kLastType) return false;
  if (at + kHeaderSize + h.length > end) return false;
  return h.crc == masked_crc32c(static_cast<unsigned char>(h.type), bytes.data() + at + kHeaderSize, h.length);
}

std::optional<uint64_t> first_intact_record(std::string_view bytes, uint64_t from, uint64_t to) {
  for (uint64_t at = from; at < to; ++at) {
    if (intact_record_at(bytes, at)) return at;
  }
  return std::nullopt;
}

}  // namespace

namespace {

struct BlockVerdict {
  std::optional<WalDamage> damage;
  bool stop = false;  // nothing to look at after this block
};

// One 32 KiB block, which starts at file offset `base` (records never cross
// blocks, so each is read on its own); `last`: the file ends in it.
BlockVerdict check_block(std::string_view block, uint64_t base, bool last) {
  // RocksDB stops without a word only in a partial block: the end of a file.
  const bool partial = block.size() < kBlockSize;
  uint64_t at = 0;
  // Each turn moves `at` forward by a record, or leaves the block.
  while (block.size() - at >= kHeaderSize) {
    const Header h = header_at(block, at);
    if (h.type >= kFirstRecyclableType && h.type <= kLastRecyclableType) {
      return {WalDamage{base + at, "a recycled-log record type (" + std::to_string(h.type) +
                                       "), which corral never writes: RocksDB would take it for the end of the log"},
              true};
    }
    if (kHeaderSize + h.length > block.size() - at) {
      if (!partial) return {std::nullopt, true};  // RocksDB reports a bad record length itself
      if (kHeaderSize + h.length > kBlockSize - at) {
        return {WalDamage{base + at, "a record length (" + std::to_string(h.length) +
                                         ") that runs past its block, so not a write cut by a crash"},
                true};
      }
      if (auto intact = first_intact_record(block, at + 1, block.size())) {
        return {WalDamage{base + at, "a record cut short with an intact record behind it (offset " +
                                         std::to_string(base + *intact) + "), so not a write cut by a crash"},
                true};
      }
      return {std::nullopt, true};  // the last write, cut by a crash: never acknowledged
    }
    if (h.type == kZeroType && h.length == 0) {
      if (auto intact = first_intact_record(block, at + 1, block.size())) {
        return {WalDamage{base + at, "a header of zeros with an intact record behind it in its block (offset " +
                                         std::to_string(base + *intact) + ")"},
                true};
      }
      break;  // RocksDB skips the rest of the block
    }
    // Not checked here: the CRC (a mismatch is refused by RocksDB itself;
    // checking would cost a pass over up to 128 MiB at every start).
    at += kHeaderSize + h.length;
  }
  // Fewer than a header's bytes left: block padding, or a header cut by a crash.
  return {std::nullopt, last};
}

}  // namespace

std::optional<WalDamage> find_silent_wal_damage(std::string_view bytes) {
  for (uint64_t base = 0; base < bytes.size(); base += kBlockSize) {
    const BlockVerdict v = check_block(bytes.substr(base, kBlockSize), base, base + kBlockSize >= bytes.size());
    if (v.damage || v.stop) return v.damage;
  }
  return std::nullopt;
}

// Reads each WAL file a block at a time (a WAL file can hold up to 128 MiB).
Result<std::string> describe_silent_wal_damage(const std::string& dir) {
  std::string block(kBlockSize, '\0');
  for (const auto& path : wal_file_paths(dir)) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) return make_error(ErrorCode::kStorage, "cannot read the WAL file " + path.string());
    for (uint64_t base = 0; base < size; base += kBlockSize) {
      const auto want = static_cast<std::streamsize>(std::min<uint64_t>(kBlockSize, size - base));
      if (!in.read(block.data(), want)) {
        return make_error(ErrorCode::kStorage, "cannot read the WAL file " + path.string());
      }
      const BlockVerdict v =
          check_block(std::string_view(block.data(), static_cast<size_t>(want)), base, base + kBlockSize >= size);
      if (v.damage) {
        return path.filename().string() + " at offset " + std::to_string(v.damage->offset) + ": " + v.damage->what;
      }
      if (v.stop) break;
    }
  }
  return std::string();
}

}  // namespace corral::storage
