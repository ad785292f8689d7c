#include "cli/curve_keygen.h"

#include <cstdio>

#include "coordinator/net/curve_key_file.h"

namespace corral::cli {

namespace {
constexpr int kExitOk = 0;
constexpr int kExitLocal = 5;
}  // namespace

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
