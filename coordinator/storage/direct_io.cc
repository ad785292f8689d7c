#include "coordinator/storage/direct_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace corral::storage {

bool direct_io_works(const std::string& dir) {
  constexpr size_t kProbeBytes = 4096;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string probe = dir + "/.direct_io_probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  void* block = nullptr;
  bool ok = ::posix_memalign(&block, kProbeBytes, kProbeBytes) == 0;
  if (ok) {
    std::memset(block, 0, kProbeBytes);
    ok = ::pwrite(fd, block, kProbeBytes, 0) == static_cast<ssize_t>(kProbeBytes);
  }
  std::free(block);
  ::close(fd);
  ::unlink(probe.c_str());
  return ok;
}

}  // namespace corral::storage
