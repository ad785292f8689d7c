#include "cli/lock_command_split.h"

#include <algorithm>
#include <cstddef>

namespace corral::cli {

std::vector<std::string> split_lock_command(std::vector<char*>& args, const std::vector<std::string>& valued_globals) {
  auto valued = [&](const std::string& w) {
    return w == "--ttl" || std::find(valued_globals.begin(), valued_globals.end(), w) != valued_globals.end();
  };
  size_t i = 1;
  while (i < args.size() && args[i][0] == '-') i += valued(args[i]) ? 2 : 1;
  if (i >= args.size() || std::string(args[i]) != "lock") return {};
  size_t j = i + 1;
  while (j < args.size() && args[j][0] == '-') j += valued(args[j]) ? 2 : 1;
  if (j + 1 >= args.size()) return {};
  std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(j) + 1, args.end());
  if (!command.empty() && command.front() == "--") command.erase(command.begin());
  args.resize(j + 1);
  return command;
}

}  // namespace corral::cli
