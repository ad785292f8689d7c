// CURVE key files, as `corralctl curve keygen --out NAME` writes them:
//
//   NAME.key (mode 0600; the member's or client's key pair):
//     # corral CURVE key pair: keep secret
//     public-key = <40 Z85 characters>
//     secret-key = <40 Z85 characters>
//   NAME.pub (the public half, to hand to the other side):
//     # corral CURVE public key
//     public-key = <40 Z85 characters>
//
// Blank lines and lines starting with '#' are ignored; any other line must
// be one of these keys, once. Loading refuses (kBadRequest, naming the file
// and line) a malformed line, an unknown or repeated key, a key that is not
// 40 Z85 characters, a secret key whose public half is not the public key
// beside it, and a key pair file that group or others may read.
#pragma once

#include <string>
#include <string_view>

#include "coordinator/base/error.h"
#include "coordinator/net/socket_options.h"

namespace corral::net {

// `source` names the text in errors (the file name).
Result<CurveKeyPair> parse_curve_key_pair(std::string_view text, std::string_view source);
Result<std::string> parse_curve_public_key(std::string_view text, std::string_view source);
std::string format_curve_key_pair(const CurveKeyPair& keys);
std::string format_curve_public_key(std::string_view public_key);

// Reads a .key file (and checks its mode).
Result<CurveKeyPair> load_curve_key_pair(const std::string& path);
// A public key given as its 40 Z85 characters, or as a .pub or .key file.
Result<std::string> load_curve_public_key(const std::string& file_or_z85);
// Writes BASE.key (0600) and BASE.pub; refuses to overwrite either.
Status write_curve_key_files(const std::string& base, const CurveKeyPair& keys);

// 40 characters that decode as Z85.
bool is_z85_key(std::string_view text);

}  // namespace corral::net
