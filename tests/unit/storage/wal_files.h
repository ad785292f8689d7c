// A data dir's one WAL file and its bytes, for the tests that damage it
// (wal_tail_check_test.cc, preallocated_wal_test.cc).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace corral::storage::testing {

// RocksDB's WAL format (coordinator/storage/wal_format.h).
inline constexpr uint64_t kBlockSize = 32768;
inline constexpr uint64_t kHeaderSize = 7;

// The data dir's only non-empty WAL file ("*.log").
inline std::string the_wal_file(const std::string& path) {
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0) logs.push_back(entry.path().string());
  }
  REQUIRE(logs.size() == 1);
  return logs.front();
}

inline std::string read_all(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_all(const std::string& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

struct Record {
  uint64_t at;
  uint64_t length;
  unsigned type;
};

// The physical records of a WAL, read the way RocksDB writes them, up to
// the first header of zeros that is followed by nothing but zeros.
inline std::vector<Record> wal_records(const std::string& bytes) {
  std::vector<Record> out;
  uint64_t at = 0;
  while (at + kHeaderSize <= bytes.size()) {
    const uint64_t left_in_block = kBlockSize - at % kBlockSize;
    if (left_in_block < kHeaderSize) {
      at += left_in_block;
      continue;
    }
    const uint64_t length = static_cast<unsigned char>(bytes[at + 4]) | static_cast<unsigned char>(bytes[at + 5]) << 8;
    const unsigned type = static_cast<unsigned char>(bytes[at + 6]);
    if (type == 0 && length == 0) {
      if (bytes.find_first_not_of('\0', at) == std::string::npos) break;
      at += left_in_block;
      continue;
    }
    out.push_back(Record{at, length, type});
    at += kHeaderSize + length;
  }
  return out;
}

}  // namespace corral::storage::testing
