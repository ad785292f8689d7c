// RocksDB's WAL format (db/log_format.h, stable since LevelDB), as far as
// wal_tail_check and wal_torn_tail read it: the file is cut in 32 KiB
// blocks; a record is a 7-byte header (masked CRC32C of the type and
// payload: 4 bytes, payload length: 2 bytes, little-endian, type: 1 byte)
// and its payload, and never crosses a block; fewer than 7 bytes left in a
// block are padding. A write too long for its block is cut into fragments:
// a FIRST, MIDDLE ones, a LAST, each at the start of the next block.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/crc.hpp>

namespace corral::storage::wal_format {

inline constexpr uint64_t kBlockSize = 32768;
inline constexpr uint64_t kHeaderSize = 7;
inline constexpr unsigned kZeroType = 0;
inline constexpr unsigned kFullType = 1;
inline constexpr unsigned kFirstType = 2;
inline constexpr unsigned kMiddleType = 3;
inline constexpr unsigned kLastType = 4;
inline constexpr unsigned kFirstRecyclableType = 5;
inline constexpr unsigned kLastRecyclableType = 8;

inline uint32_t masked_crc32c(unsigned char type, const char* payload, size_t length) {
  constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_byte(type);
  crc.process_bytes(payload, length);
  const uint32_t c = crc.checksum();
  return ((c >> 15) | (c << 17)) + kCrcMaskDelta;
}

struct Header {
  uint32_t crc;
  uint64_t length;
  unsigned type;
};

// The header at `at`; the caller has checked that 7 bytes are there.
inline Header header_at(std::string_view bytes, uint64_t at) {
  auto byte = [&](uint64_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])); };
  return Header{byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24, byte(4) | byte(5) << 8, byte(6)};
}

inline uint64_t block_end(uint64_t at) { return (at / kBlockSize + 1) * kBlockSize; }

// The data dir's WAL files ("*.log"), oldest first.
inline std::vector<std::filesystem::path> wal_file_paths(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log" && entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace corral::storage::wal_format
