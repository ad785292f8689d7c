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

}  // namespace corral::storage::testing
