// corralctl curve keygen --out NAME: a new CURVE key pair in NAME.key
// (mode 0600) and its public half in NAME.pub (net/curve_key_file.h has
// the format). Never overwrites. Returns corralctl's exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace corral::cli {

// `curve keygen --out NAME` under `app`; returns keygen.
CLI::App* add_curve_commands(CLI::App& app, std::string& out_base);

int run_curve_keygen(const std::string& out_base);

}  // namespace corral::cli
