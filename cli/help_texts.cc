#include "cli/help_texts.h"

#include <cstdio>
#include <iostream>
#include <map>

#include "cli/command_support.h"

namespace corral::cli {

namespace {

// Keyed by the command's path ("lease grant").
const std::map<std::string, std::string>& examples() {
  static const std::map<std::string, std::string> kExamples = {
      {"put", "corralctl put /config/web/mode blue --lease 694d77aa9e38260f"},
      {"get", "corralctl get /apps/ --prefix --keys-only"},
      {"del", "corralctl del /apps/web/ --prefix"},
      {"ls", "corralctl ls /apps/web"},
      {"watch", "corralctl watch /apps/ --prefix --rev 42"},
      {"txn", "printf 'val(\"/k\") = \"1\"\\n\\nput /k 2\\n\\n' | corralctl txn"},
      {"compaction", "corralctl compaction 1000"},
      {"defrag", "corralctl --endpoints 10.0.0.1:2379,10.0.0.2:2379 defrag"},
      {"snapshot", "corralctl snapshot save backup.snap"},
      {"snapshot save", "corralctl --endpoints 10.0.0.1:2379 snapshot save backup.snap"},
      {"snapshot status", "corralctl -w table snapshot status backup.snap"},
      {"snapshot restore",
       "corralctl snapshot restore backup.snap --name n1 --initial-cluster n1=10.0.0.1:2380,n2=10.0.0.2:2380 "
       "--initial-advertise-peer-urls 10.0.0.1:2380 --data-dir /var/lib/corral/n1 --initial-cluster-token dr-1"},
      {"lease", "corralctl lease grant 30"},
      {"lease grant", "corralctl lease grant 30 --put /apps/web/access/10.0.0.11 '{...}'"},
      {"lease keepalive", "corralctl lease keepalive 694d77aa9e38260f --once"},
      {"lease revoke", "corralctl lease revoke 694d77aa9e38260f"},
      {"lease list", "corralctl lease list"},
      {"lease ttl", "corralctl lease ttl 694d77aa9e38260f --keys"},
      {"member", "corralctl member list -w table"},
      {"member list", "corralctl -w table member list"},
      {"member add", "corralctl member add n4 --peer-urls 10.0.0.4:2380"},
      {"member remove", "corralctl member remove 8e9e05c52164694d"},
      {"member promote", "corralctl member promote 8e9e05c52164694d"},
      {"move-leader", "corralctl move-leader 8e9e05c52164694d"},
      {"endpoint", "corralctl --endpoints 10.0.0.1:2379,10.0.0.2:2379 endpoint health"},
      {"endpoint status", "corralctl --endpoints 10.0.0.1:2379,10.0.0.2:2379 -w table endpoint status"},
      {"endpoint health", "corralctl --endpoints 10.0.0.1:2379,10.0.0.2:2379 endpoint health"},
      {"alarm list", "corralctl alarm list"},
      {"alarm disarm", "corralctl alarm disarm    # once the member's disk has space again"},
      {"endpoint hashkv", "corralctl --endpoints 10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379 endpoint hashkv --check"},
      {"lock", "corralctl lock /locks/backup -- sh -c 'pg_dump db > db.sql'"},
      {"elect", "corralctl elect /elections/scheduler \"$(hostname)\"   # or: corralctl elect -l /elections/scheduler"},
      {"agents", "corralctl -w table agents"},
      {"tasks", "corralctl tasks --app web --topic access"},
      {"collector", "corralctl collector drain collector-1"},
      {"collector drain", "corralctl collector drain collector-1"},
      {"collector undrain", "corralctl collector undrain collector-1"},
      {"rebalance", "corralctl rebalance"},
      {"completion", "corralctl completion bash > /etc/bash_completion.d/corralctl"},
      {"help", "corralctl help snapshot restore"},
  };
  return kExamples;
}

void add_footers(CLI::App& app, const std::string& path) {
  for (CLI::App* sub : app.get_subcommands({})) {
    const std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    auto it = examples().find(sub_path);
    sub->footer((it != examples().end() ? "Example:\n  " + it->second + "\n\n" : std::string()) + kExitCodesText);
    add_footers(*sub, sub_path);
  }
}

}  // namespace

void add_help_texts(CLI::App& app) {
  app.footer(std::string("Run 'corralctl help COMMAND' for a command's arguments and an example.\n") + kExitCodesText);
  add_footers(app, "");
}

CLI::App* add_help_command(CLI::App& app, std::vector<std::string>& words) {
  auto* help = app.add_subcommand(
      "help", "help [COMMAND...]: a command's usage, its arguments and flags, an example and the exit codes");
  help->add_option("command", words, "the command, e.g. snapshot restore");
  return help;
}

int run_help(CLI::App& app, const std::vector<std::string>& words) {
  CLI::App* target = find_command(app, words);
  if (target == nullptr) {
    std::fprintf(stderr, "Error: no command \"%s\"; run 'corralctl --help' for the commands\n",
                 CLI::detail::join(words, " ").c_str());
    return kExitUsage;
  }
  std::cout << target->help();
  return kExitOk;
}

CLI::App* find_command(CLI::App& app, const std::vector<std::string>& words) {
  CLI::App* current = &app;
  for (const std::string& w : words) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : current->get_subcommands({})) {
      if (sub->check_name(w)) next = sub;
    }
    if (next == nullptr) return nullptr;
    current = next;
  }
  return current;
}

}  // namespace corral::cli
