#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "coordinator/net/curve_allow_list.h"
#include "coordinator/net/curve_key_file.h"

using corral::ErrorCode;
using namespace corral::net;

namespace {

CurveKeyPair fresh_keys() {
  auto keys = generate_curve_keypair();
  REQUIRE(keys.ok());
  return *keys;
}

void check_refused(const corral::Error& e, const std::string& mentions) {
  INFO(e.message);
  CHECK(e.code == ErrorCode::kBadRequest);
  CHECK(e.message.find(mentions) != std::string::npos);
}

}  // namespace

TEST_CASE("curve key file: the written format parses back", "[net][curve]") {
  if (!curve_available()) return;
  const CurveKeyPair k = fresh_keys();
  auto back = parse_curve_key_pair(format_curve_key_pair(k), "a.key");
  REQUIRE(back.ok());
  CHECK(back->public_key == k.public_key);
  CHECK(back->secret_key == k.secret_key);
  auto pub = parse_curve_public_key(format_curve_public_key(k.public_key), "a.pub");
  REQUIRE(pub.ok());
  CHECK(*pub == k.public_key);
  // A .key file serves as a public key file too.
  CHECK(*parse_curve_public_key(format_curve_key_pair(k), "a.key") == k.public_key);
  // Blank lines, comments, spaces around '=' and CRLF are fine.
  auto loose = parse_curve_key_pair("\n# c\r\n  secret-key=" + k.secret_key + "\r\npublic-key   =  " + k.public_key + "\n", "l");
  CHECK(loose.ok());
}

TEST_CASE("curve key file: bad text is refused naming the file and line", "[net][curve]") {
  if (!curve_available()) return;
  const CurveKeyPair k = fresh_keys();
  const CurveKeyPair other = fresh_keys();
  const std::string pub = "public-key = " + k.public_key + "\n";
  const std::string sec = "secret-key = " + k.secret_key + "\n";
  check_refused(parse_curve_key_pair("# c\n" + pub + "garbage\n", "f.key").error(), "f.key:3");
  check_refused(parse_curve_key_pair(pub + "secret-key = short\n", "f.key").error(), "f.key:2: secret-key must be 40");
  check_refused(parse_curve_key_pair(pub + pub + sec, "f.key").error(), "f.key:2: 'public-key' given twice");
  check_refused(parse_curve_key_pair(pub + "colour = " + k.secret_key + "\n", "f.key").error(), "f.key:2: unknown key 'colour'");
  check_refused(parse_curve_key_pair(pub, "f.key").error(), "f.key: no secret-key");
  check_refused(parse_curve_key_pair(sec, "f.key").error(), "f.key: no public-key");
  check_refused(parse_curve_key_pair("public-key = " + other.public_key + "\n" + sec, "f.key").error(),
                "not the public half");
  // 40 characters but not Z85 (a quote is outside its alphabet).
  check_refused(parse_curve_key_pair(pub + "secret-key = " + std::string(40, '"') + "\n", "f.key").error(), "f.key:2");
  check_refused(parse_curve_public_key("", "e.pub").error(), "e.pub: no public-key");
}

TEST_CASE("curve key files: written 0600, never overwritten, loaded back", "[net][curve]") {
  if (!curve_available()) return;
  const auto dir = std::filesystem::temp_directory_path() / ("corral-curve-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string base = (dir / "m1").string();
  const CurveKeyPair k = fresh_keys();
  REQUIRE(write_curve_key_files(base, k).ok());
  struct stat st {};
  REQUIRE(::stat((base + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  check_refused(write_curve_key_files(base, fresh_keys()).error(), "m1.key");
  auto loaded = load_curve_key_pair(base + ".key");
  REQUIRE(loaded.ok());
  CHECK(loaded->secret_key == k.secret_key);
  CHECK(*load_curve_public_key(base + ".pub") == k.public_key);
  CHECK(*load_curve_public_key(k.public_key) == k.public_key);
  check_refused(load_curve_public_key((dir / "nope.pub").string()).error(), "nope.pub");
  ::chmod((base + ".key").c_str(), 0640);
  check_refused(load_curve_key_pair(base + ".key").error(), "mode 640");
  std::filesystem::remove_all(dir);
}

TEST_CASE("curve allow list: keys to names", "[net][curve]") {
  if (!curve_available()) return;
  const std::string a = fresh_keys().public_key;
  const std::string b = fresh_keys().public_key;
  auto list = parse_curve_allow_list("# members\n\n" + a + " n1\n  " + b + "\tn2   # the second\n", "p.allow", true);
  REQUIRE(list.ok());
  CHECK(list->name_by_key.size() == 2);
  CHECK(list->name_of(a) == "n1");
  CHECK(list->name_of(b) == "n2");
  CHECK_FALSE(list->name_of(fresh_keys().public_key).has_value());
  CHECK(list->key_of("n2") == b);
  CHECK_FALSE(list->key_of("n3").has_value());
  CHECK(parse_curve_allow_list("", "empty", true)->name_by_key.empty());
  // '#' is a Z85 character (never a key's first: it would overflow).
  std::string hashed;
  for (int i = 0; i < 8; ++i) hashed += "0000#";
  auto with_hash = parse_curve_allow_list(hashed + " hash # comment\n# " + hashed + " not-a-line\n", "h", true);
  REQUIRE(with_hash.ok());
  CHECK(with_hash->name_by_key.size() == 1);
  CHECK(with_hash->name_of(hashed) == "hash");
  // Two keys of one user are fine in a client list, not in a peer list.
  const std::string two = a + " alice\n" + b + " alice\n";
  CHECK(parse_curve_allow_list(two, "c.allow", false).ok());
  check_refused(parse_curve_allow_list(two, "p.allow", true).error(), "p.allow:2: name 'alice' listed twice");
}

TEST_CASE("curve allow list: bad lines are refused naming the file and line", "[net][curve]") {
  if (!curve_available()) return;
  const std::string a = fresh_keys().public_key;
  check_refused(parse_curve_allow_list(a + "\n", "x.allow", false).error(), "x.allow:1: expected 'PUBLICKEY NAME'");
  check_refused(parse_curve_allow_list("# c\nshort alice\n", "x.allow", false).error(), "x.allow:2: 'short' is not");
  check_refused(parse_curve_allow_list(a + " alice extra\n", "x.allow", false).error(), "x.allow:1: expected");
  check_refused(parse_curve_allow_list(a + " alice\n" + a + " bob\n", "x.allow", false).error(), "x.allow:2: key listed twice");
  check_refused(load_curve_allow_file("/nonexistent/corral.allow", false).error(), "/nonexistent/corral.allow");
}
