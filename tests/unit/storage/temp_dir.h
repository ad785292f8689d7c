// A fresh directory under the system temp dir, removed with its contents
// when the object goes away.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "coordinator/base/check.h"

namespace corral::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "corral-storage-XXXXXX").string();
    CORRAL_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace corral::storage::testing
