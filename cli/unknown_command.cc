#include "cli/unknown_command.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/global_flags.h"
#include "cli/suggest.h"

namespace corral::cli {

namespace {

// The path of commands before the word ("corralctl lease") and the word.
struct UnknownCommand {
  std::string path;
  std::string word;
  std::vector<std::string> names;  // what would have matched, aliases included
};

// Global options and their values are skipped.
std::optional<UnknownCommand> find_unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "corralctl";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (!arg.empty() && arg[0] == '-') {
      if (std::find(kValuedGlobalFlags.begin(), kValuedGlobalFlags.end(), arg) != kValuedGlobalFlags.end()) ++i;
      continue;
    }
    const std::vector<CLI::App*> subs = current->get_subcommands({});
    if (subs.empty()) return std::nullopt;  // a leaf command: the rest are its arguments
    CLI::App* next = nullptr;
    UnknownCommand unknown{path, arg, {}};
    for (CLI::App* sub : subs) {
      if (sub->check_name(arg)) next = sub;
      unknown.names.push_back(sub->get_name());
      for (const std::string& alias : sub->get_aliases()) unknown.names.push_back(alias);
    }
    if (next == nullptr) return unknown;
    current = next;
    path += " " + next->get_name();
  }
  return std::nullopt;
}

}  // namespace

bool report_unknown_command(CLI::App& app, int argc, char** argv) {
  std::optional<UnknownCommand> unknown = find_unknown_command(app, argc, argv);
  if (!unknown) return false;
  std::fprintf(stderr, "Error: unknown command \"%s\" for \"%s\"\n", unknown->word.c_str(), unknown->path.c_str());
  const std::string near = nearest(unknown->word, unknown->names);
  if (!near.empty()) std::fprintf(stderr, "Did you mean this?\n\t%s\n", near.c_str());
  std::fprintf(stderr, "Run '%s --help' for the commands.\n", unknown->path.c_str());
  return true;
}

}  // namespace corral::cli
