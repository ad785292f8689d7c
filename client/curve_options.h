// The CURVE flags shared by corralctl, corral-agent and corral-bench:
//   --curve-key-file FILE         this client's key pair (corralctl curve keygen)
//   --curve-server-key LIST       the members' public keys, comma-separated:
//                                 one for all endpoints or one per endpoint,
//                                 each a .pub/.key file or 40 Z85 characters
// Both or neither.
#pragma once

#include <string>

#include "client/client.h"

namespace corral::client {

// Fills options' curve fields; an empty string when done (or both flags
// empty), else what is wrong, naming the flag and the file.
std::string apply_curve_flags(const std::string& key_file, const std::string& server_keys, Options& options);

}  // namespace corral::client
