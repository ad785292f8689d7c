#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli/global_flags.h"
#include "cli/lock_command_split.h"

using corral::cli::kValuedGlobalFlags;
using corral::cli::split_lock_command;

namespace {

struct Split {
  std::vector<std::string> command;  // split off
  std::vector<std::string> left;     // what CLI11 parses
};

Split split(std::vector<std::string> words) {
  std::vector<char*> args;
  for (std::string& w : words) args.push_back(w.data());
  Split out;
  out.command = split_lock_command(args, kValuedGlobalFlags);
  for (char* a : args) out.left.emplace_back(a);
  return out;
}

using Words = std::vector<std::string>;

}  // namespace

TEST_CASE("lock command split: the words after the lock name are the command", "[cli][lock]") {
  auto s = split({"corralctl", "lock", "--ttl", "5", "L", "--", "sh", "-c", "echo $COUNT"});
  CHECK(s.command == Words{"sh", "-c", "echo $COUNT"});
  CHECK(s.left == Words{"corralctl", "lock", "--ttl", "5", "L"});
  // No command: nothing split, argv unchanged.
  s = split({"corralctl", "lock", "L"});
  CHECK(s.command.empty());
  CHECK(s.left == Words{"corralctl", "lock", "L"});
  // Another command: untouched.
  s = split({"corralctl", "put", "k", "v"});
  CHECK(s.command.empty());
  CHECK(s.left.size() == 4);
}

TEST_CASE("lock command split: every global flag that takes a value is skipped with it", "[cli][lock]") {
  for (const std::string& flag : kValuedGlobalFlags) {
    INFO(flag);
    auto s = split({"corralctl", flag, "value", "lock", "L", "touch", "/tmp/x"});
    CHECK(s.command == Words{"touch", "/tmp/x"});
    CHECK(s.left == Words{"corralctl", flag, "value", "lock", "L"});
  }
  // The value of --user is not taken for the command name.
  auto s = split({"corralctl", "--user", "alice:pw", "lock", "--ttl", "3", "L", "true"});
  CHECK(s.command == Words{"true"});
}
