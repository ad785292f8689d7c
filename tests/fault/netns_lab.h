// Network namespaces for partition tests: every member in a namespace of its
// own, on one bridge, so that links between members can fail while the
// test's clients still reach every member.
//
// The test process first moves itself into a fresh network namespace
// (unshare), where it makes the bridge (10.213.0.1/24) and one namespace
// per member (10.213.0.11, .12, ...) with a veth pair into the bridge.
// Nothing is added to the machine's own namespace, and every address lives
// only inside namespaces this process made. The member namespaces are
// named corral-<pid>-<i> and removed by the destructor; namespaces left by a
// test that was killed are removed by the next one (their pid is gone).
//
// Faults: cut(a, b) makes every packet from a to b vanish without an error
// (a permanent neighbour entry with a MAC nobody has, on a's side: TCP
// just retransmits), which gives one-way loss; cutting both ways gives a
// partition. link_down/up takes a member's port off the bridge (a flapping
// link). There is no delay or reordering: this kernel has no netem.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace corral::fault {

class NetnsLab {
 public:
  // Whether the lab can run here (root, `ip`, namespaces): "" or why not.
  static std::string unavailable_reason();

  // Must be called while the process has a single thread (before any
  // client or cluster exists): the network namespace is per thread.
  // Throws std::runtime_error when a step fails.
  explicit NetnsLab(size_t members);
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  std::string host(size_t member) const;
  // The command that starts a program inside member i's namespace.
  std::vector<std::string> launcher(size_t member) const;

  // Packets from `from` to `to` vanish / flow again.
  void cut(size_t from, size_t to);
  void heal(size_t from, size_t to);
  // Both ways between `member` and every other member (clients still reach it).
  void isolate(size_t member);
  // Every cut undone and every link up.
  void heal_all();
  void link_down(size_t member);
  void link_up(size_t member);

 private:
  std::string ns_name(size_t member) const;
  void run(const std::vector<std::string>& args) const;

  size_t members_;
  std::string prefix_;
  std::vector<std::vector<bool>> cut_;
  std::vector<bool> down_;
};

}  // namespace corral::fault
