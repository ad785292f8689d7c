// `corralctl lock NAME COMMAND...`: the command to run is split off argv
// before CLI11 parses it, since CLI11 would take COMMAND's own flags
// (sh -c ...) for corralctl's.
#pragma once

#include <string>
#include <vector>

namespace corral::cli {

// The words after `lock [--ttl N] NAME` are taken out of `args` (argv) and
// returned (a leading "--" dropped); empty, `args` unchanged, when there is
// no lock command with words after its name. `valued_globals`: the global
// options that take a value (global_flags.h kValuedGlobalFlags), skipped
// with their value wherever they stand before the command.
std::vector<std::string> split_lock_command(std::vector<char*>& args, const std::vector<std::string>& valued_globals);

}  // namespace corral::cli
