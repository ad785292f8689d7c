// corrald's flags: the setting each one fills, its check and its help
// text. The config file (--config, CORRAL_CONFIG) and the CORRAL_<FLAG>
// variables reach the same options; the file is read strictly.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "coordinator/server/curve_setup.h"
#include "coordinator/server/http_server.h"
#include "coordinator/server/node.h"

namespace corral::main {

struct CorraldFlags {
  server::NodeOptions node;
  server::HttpServerOptions http;
  server::CurveFiles curve_files;
  std::string cluster_state = "new";
  std::string peer_wire = "auto";
  std::string client_wire = "auto";
  std::string log_level = "info";
  // etcd's millisecond timing flags; whether they were given is read from
  // their options after parsing (timing_flags.h).
  int heartbeat_interval_ms = 0;
  int election_timeout_ms = 0;
  CLI::Option* heartbeat_interval = nullptr;
  CLI::Option* election_timeout = nullptr;
  CLI::Option* tick = nullptr;
  CLI::Option* election_ticks = nullptr;
  CLI::Option* heartbeat_ticks = nullptr;
};

// Adds every flag, the config file, --version and the environment
// variables to `app`; `f` must outlive the parse.
void add_corrald_flags(CLI::App& app, CorraldFlags& f);

// After a successful parse: the settings derived from the flags (timing,
// the data dir's default, the CURVE keys read from their files). An error
// message for exit code 2, or empty.
std::string finish_corrald_flags(CorraldFlags& f);

}  // namespace corral::main
