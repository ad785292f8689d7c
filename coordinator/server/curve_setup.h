// A member's CURVE settings, loaded from its flags: its key pair
// (--curve-key-file) and who may connect (--client-curve-allow-file:
// `KEY user`; --peer-curve-allow-file: `KEY member-name`, which also gives
// the key each peer is dialled with). All three flags or none: a key file
// alone would encrypt without saying who may connect, an allow file alone
// cannot encrypt.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "coordinator/base/error.h"
#include "coordinator/net/curve_allow_list.h"
#include "coordinator/net/socket_options.h"

namespace corral::server {

struct CurveFiles {
  std::string key_file;
  std::string client_allow_file;
  std::string peer_allow_file;
  bool any() const { return !key_file.empty() || !client_allow_file.empty() || !peer_allow_file.empty(); }
};

struct CurveAllowLists {
  net::CurveAllowList clients;  // key -> user
  net::CurveAllowList peers;    // key -> member name
};

struct CurveSetup {
  CurveFiles files;
  net::CurveKeyPair own;
  CurveAllowLists lists;  // as loaded at start (the ZAP handler holds the live ones)

  // The key a peer of this name is dialled with; kBadRequest if unlisted.
  Result<std::string> peer_key(const std::string& member_name) const;
};

// Contradictory flags (naming the flag) and bad files (naming file and
// line) are kBadRequest. No flags: null (CURVE off).
Result<std::shared_ptr<const CurveSetup>> load_curve_setup(const CurveFiles& files);
// Re-reads both allow files (for SIGHUP).
Result<CurveAllowLists> load_curve_allow_lists(const CurveFiles& files);

}  // namespace corral::server
