// corralctl endpoint hashkv [--rev R] [--check]: etcdctl's, the HashKV of
// every endpoint. With --rev 0 every endpoint is asked at one revision (the
// lowest current revision among them, so that a member a little behind is
// compared on the same history), and --check exits 1 when hashes differ.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "client/client.h"

namespace corral::cli {

struct HashKvArgs {
  int64_t revision = 0;
  bool check = false;
};

CLI::App* add_hashkv_command(CLI::App& endpoint, HashKvArgs& args);

// `exit_code_for`: corralctl's exit code of a client error.
int run_hashkv(client::Client& client, const std::vector<std::string>& endpoints, const HashKvArgs& args,
               client::Printer& out, const std::function<int(const client::Error&)>& exit_code_for);

}  // namespace corral::cli
