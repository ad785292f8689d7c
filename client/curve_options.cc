#include "client/curve_options.h"

#include "coordinator/net/curve_key_file.h"

namespace corral::client {

std::string apply_curve_flags(const std::string& key_file, const std::string& server_keys, Options& options) {
  if (key_file.empty() && server_keys.empty()) return {};
  if (key_file.empty()) return "--curve-server-key needs --curve-key-file (this client's key pair)";
  if (server_keys.empty()) return "--curve-key-file needs --curve-server-key (the members' public keys)";
  auto own = net::load_curve_key_pair(key_file);
  if (!own.ok()) return "--curve-key-file: " + own.error().message;
  options.curve_public_key = own->public_key;
  options.curve_secret_key = own->secret_key;
  options.curve_server_keys.clear();
  size_t start = 0;
  while (start <= server_keys.size()) {
    size_t comma = server_keys.find(',', start);
    if (comma == std::string::npos) comma = server_keys.size();
    auto key = net::load_curve_public_key(server_keys.substr(start, comma - start));
    if (!key.ok()) return "--curve-server-key: " + key.error().message;
    options.curve_server_keys.push_back(*key);
    start = comma + 1;
  }
  return {};
}

}  // namespace corral::client
