#include "cli/curve_keygen.h"

#include <cstdio>

#include "cli/command_support.h"
#include "coordinator/net/curve_key_file.h"

namespace corral::cli {

CLI::App* add_curve_commands(CLI::App& app, std::string& out_base) {
  auto* curve = app.add_subcommand("curve", "curve keygen --out NAME");
  curve->require_subcommand(1);
  auto* keygen = curve->add_subcommand("keygen", "keygen --out NAME: write a key pair to NAME.key (0600) and NAME.pub");
  keygen->add_option("--out", out_base, "file name without .key/.pub")->required();
  return keygen;
}

int run_curve_keygen(const std::string& out_base) {
  auto keys = net::generate_curve_keypair();
  if (!keys.ok()) {
    std::fprintf(stderr, "Error: %s\n", keys.error().message.c_str());
    return kExitLocal;
  }
  if (Status s = net::write_curve_key_files(out_base, *keys); !s.ok()) {
    std::fprintf(stderr, "Error: %s\n", s.error().message.c_str());
    return kExitLocal;
  }
  std::printf("%s.key %s.pub %s\n", out_base.c_str(), out_base.c_str(), keys->public_key.c_str());
  return kExitOk;
}

}  // namespace corral::cli
