// What the in-process server tests need from the machine: a fresh temporary
// data directory and a loopback port that was free a moment ago.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include <filesystem>
#include <string>

namespace corral::testing {

// <tmp>/<prefix>-<name>-<pid>, emptied first.
inline std::string temp_dir(const std::string& prefix, const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// A loopback port below the ephemeral range (32768-60999 here) that was
// free a moment ago. Not port 0: the kernel hands those out of the
// ephemeral range, where any outgoing connection of a test running beside
// this one can take the port before the member binds it (a member that
// failed to start in a whole-suite run). Each call in a process gets a new
// port; processes start at different places (pid).
inline int free_port() {
  constexpr int kFirst = 20000, kCount = 12000;
  static int next = static_cast<int>(::getpid()) * 7919 % kCount;
  for (int tries = 0; tries < kCount; ++tries) {
    const int port = kFirst + next;
    next = (next + 1) % kCount;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

}  // namespace corral::testing
