// corralctl's key-value commands, as etcdctl's: put, get, del, ls (direct
// children of a /-separated directory), watch and txn (etcdctl's text
// syntax on stdin).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "cli/command_support.h"

namespace corral::cli {

struct KvArgs {
  std::string key, value, value_file, lease_text, dir;
  bool interactive = false;  // txn -i
  bool prefix = false, keys_only = false, count_only = false, serializable = false;
  bool prev_kv = false;
  std::string range_end, sort_by, order;  // get KEY [RANGE_END]
  bool from_key = false, value_only = false, hex = false;
  int64_t rev = 0, limit = 0;
  int64_t lease = 0;  // put --lease, parsed by check_kv_args
};

struct KvCommands {
  CLI::App* put = nullptr;
  CLI::App* get = nullptr;
  CLI::App* del = nullptr;
  CLI::App* ls = nullptr;
  CLI::App* watch = nullptr;
  CLI::App* txn = nullptr;  // add_txn_command
  bool given() const { return *put || *get || *del || *ls || *watch || (txn != nullptr && *txn); }
};

// put, get, del, ls and watch.
KvCommands add_kv_commands(CLI::App& app, KvArgs& args);
// txn (--help lists it after compaction, hence apart).
void add_txn_command(CLI::App& app, KvArgs& args, KvCommands& commands);

// Before connecting: put --lease must be a hex id. False: reported, exit 2.
bool check_kv_args(KvArgs& args);

int run_kv(const KvCommands& commands, const KvArgs& args, CommandContext& ctx);

}  // namespace corral::cli
