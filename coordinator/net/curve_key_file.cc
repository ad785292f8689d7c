#include "coordinator/net/curve_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>

#include "coordinator/net/curve_text.h"

namespace corral::net {
namespace {

using curve_text::line_error;
using curve_text::trim;

constexpr std::string_view kPublicKeyName = "public-key";
constexpr std::string_view kSecretKeyName = "secret-key";

// The `name = value` lines of a key file, each checked to be a Z85 key.
Result<std::map<std::string, std::string>> parse_key_lines(std::string_view text,
                                                           std::string_view source,
                                                           bool secret_allowed) {
  std::map<std::string, std::string> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return line_error(source, line_no, "expected 'public-key = KEY' or 'secret-key = KEY'");
    }
    const std::string name(trim(line.substr(0, eq)));
    const std::string value(trim(line.substr(eq + 1)));
    if (name != kPublicKeyName && !(secret_allowed && name == kSecretKeyName)) {
      return line_error(source, line_no, "unknown key '" + name + "'" +
                                             (name == kSecretKeyName ? " (a public key file holds no secret key)" : ""));
    }
    if (out.count(name)) return line_error(source, line_no, "'" + name + "' given twice");
    if (!is_z85_key(value)) {
      return line_error(source, line_no, name + " must be 40 Z85 characters");
    }
    out.emplace(name, value);
  }
  return out;
}

Error missing(std::string_view source, std::string_view what) {
  return make_error(ErrorCode::kBadRequest, std::string(source) + ": no " + std::string(what) + " line");
}

}  // namespace

bool is_z85_key(std::string_view text) {
  if (text.size() != kCurveKeyZ85Chars) return false;
  const std::string copy(text);
  std::array<uint8_t, 32> raw{};
  return zmq_z85_decode(raw.data(), copy.c_str()) != nullptr;
}

Result<CurveKeyPair> parse_curve_key_pair(std::string_view text, std::string_view source) {
  auto lines = parse_key_lines(text, source, true);
  if (!lines.ok()) return lines.error();
  auto pub = lines->find(std::string(kPublicKeyName));
  auto sec = lines->find(std::string(kSecretKeyName));
  if (sec == lines->end()) return missing(source, kSecretKeyName);
  if (pub == lines->end()) return missing(source, kPublicKeyName);
  char derived[kCurveKeyZ85Chars + 1] = {};
  if (zmq_curve_public(derived, sec->second.c_str()) != 0) {
    return make_error(ErrorCode::kUnavailable, "libzmq has no CURVE support");
  }
  if (pub->second != derived) {
    return make_error(ErrorCode::kBadRequest, std::string(source) +
                                                  ": public-key is not the public half of secret-key");
  }
  return CurveKeyPair{pub->second, sec->second};
}

Result<std::string> parse_curve_public_key(std::string_view text, std::string_view source) {
  // A .key file serves as well: its public line is read, its secret ignored.
  auto lines = parse_key_lines(text, source, true);
  if (!lines.ok()) return lines.error();
  auto pub = lines->find(std::string(kPublicKeyName));
  if (pub == lines->end()) return missing(source, kPublicKeyName);
  return pub->second;
}

std::string format_curve_key_pair(const CurveKeyPair& keys) {
  return "# corral CURVE key pair: keep secret (corralctl curve keygen)\n" +
         std::string(kPublicKeyName) + " = " + keys.public_key + "\n" + std::string(kSecretKeyName) +
         " = " + keys.secret_key + "\n";
}

std::string format_curve_public_key(std::string_view public_key) {
  return "# corral CURVE public key (corralctl curve keygen)\n" + std::string(kPublicKeyName) +
         " = " + std::string(public_key) + "\n";
}

Result<CurveKeyPair> load_curve_key_pair(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(ErrorCode::kBadRequest, path + ": cannot open");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return make_error(ErrorCode::kBadRequest, path + ": holds a secret key but has mode " + mode +
                                                  " (group or others may read it): chmod 600 " + path);
  }
  auto text = curve_text::read_small_file(path);
  if (!text.ok()) return text.error();
  return parse_curve_key_pair(*text, path);
}

Result<std::string> load_curve_public_key(const std::string& file_or_z85) {
  struct stat st {};
  if (::stat(file_or_z85.c_str(), &st) != 0 && is_z85_key(file_or_z85)) return file_or_z85;
  auto text = curve_text::read_small_file(file_or_z85);
  if (!text.ok()) {
    return make_error(ErrorCode::kBadRequest,
                      file_or_z85 + ": neither a readable key file nor 40 Z85 characters");
  }
  return parse_curve_public_key(*text, file_or_z85);
}

namespace {

Status write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  // O_EXCL: an existing key is never overwritten (it may be the only copy).
  FILE* f = nullptr;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd >= 0) f = ::fdopen(fd, "w");
  if (!f) {
    if (fd >= 0) ::close(fd);
    return make_error(ErrorCode::kBadRequest, path + ": cannot create (it may exist already)");
  }
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return make_error(ErrorCode::kUnavailable, path + ": write failed");
  return {};
}

}  // namespace

Status write_curve_key_files(const std::string& base, const CurveKeyPair& keys) {
  if (Status s = write_new_file(base + ".key", format_curve_key_pair(keys), 0600); !s.ok()) return s;
  return write_new_file(base + ".pub", format_curve_public_key(keys.public_key), 0644);
}

}  // namespace corral::net
