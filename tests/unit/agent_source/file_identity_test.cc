#include "agent/source/file_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/agent_source/source_test_util.h"

using corral::agent::source::FileIdentity;
using corral::agent::source::fnv1a64;
using corral::agent::source::identify;
using corral::agent::source::kFingerprintBytes;
using corral::agent::source::matches;
using corral::agent::source::testing::append;
using corral::agent::source::testing::TempDir;
using corral::agent::source::testing::truncate_and_write;

namespace {

struct OpenFile {
  explicit OpenFile(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    REQUIRE(fd >= 0);
  }
  ~OpenFile() { ::close(fd); }
  int fd;
};

FileIdentity identity_of(int fd) {
  auto id = identify(fd);
  REQUIRE(id.ok());
  return *id;
}

}  // namespace

TEST_CASE("fnv1a64 gives the published FNV-1a 64 values", "[identity]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("a file's identity is stable as it grows, short files included", "[identity]") {
  TempDir dir;
  const std::string path = dir.file("a.log");
  append(path, "short\n");
  OpenFile f(path);
  const FileIdentity first = identity_of(f.fd);
  CHECK(first.fingerprint_bytes == 6);
  append(path, std::string(1000, 'x') + "\n");
  auto same = matches(first, f.fd);
  REQUIRE(same.ok());
  CHECK(*same);
  const FileIdentity grown = identity_of(f.fd);
  CHECK(grown.fingerprint_bytes == kFingerprintBytes);
  append(path, "more\n");
  CHECK(identity_of(f.fd) == grown);  // full-length fingerprints never change on append
}

TEST_CASE("truncating and rewriting a file changes its identity", "[identity]") {
  TempDir dir;
  const std::string path = dir.file("a.log");
  append(path, std::string(300, 'a'));
  OpenFile f(path);
  const FileIdentity before = identity_of(f.fd);
  truncate_and_write(path, std::string(300, 'b'));
  auto same = matches(before, f.fd);
  REQUIRE(same.ok());
  CHECK_FALSE(*same);
  CHECK(identity_of(f.fd).id() != before.id());
  // Truncated below the fingerprint: no longer the same file either.
  truncate_and_write(path, "a");
  auto shorter = matches(before, f.fd);
  REQUIRE(shorter.ok());
  CHECK_FALSE(*shorter);
}

TEST_CASE("a reused inode is a different file", "[identity]") {
  TempDir dir;
  const std::string path = dir.file("a.log");
  append(path, "first file\n");
  FileIdentity old_identity;
  {
    OpenFile f(path);
    old_identity = identity_of(f.fd);
  }
  REQUIRE(::unlink(path.c_str()) == 0);
  append(path, "second file\n");
  OpenFile f(path);
  const FileIdentity new_identity = identity_of(f.fd);
  CHECK(new_identity.id() != old_identity.id());
  // Whether or not the kernel reused the inode, the old identity with this
  // file's device and inode does not match it.
  FileIdentity reused = old_identity;
  reused.device = new_identity.device;
  reused.inode = new_identity.inode;
  auto same = matches(reused, f.fd);
  REQUIRE(same.ok());
  CHECK_FALSE(*same);
}

TEST_CASE("file ids round-trip, are short, and garbage is not an id", "[identity]") {
  const FileIdentity max{~0ull, ~0ull, kFingerprintBytes, ~0ull};
  CHECK(max.id().size() <= 128);
  const FileIdentity some{0x803, 0x1c0a55, 0x100, 0x9f2c41aa07d3e115ull};
  CHECK(some.id() == "803-1c0a55-100-9f2c41aa07d3e115");
  CHECK(FileIdentity::parse(some.id()) == some);
  CHECK(FileIdentity::parse(some.id() + ".7") == some);
  for (const char* bad : {"", "x", "1-2-3", "1-2-3-4-5", "1-2-0-4", "1-2-101-4", "1--3-4",
                          "g-2-3-4", "1-2-3-00000000000000000"}) {
    INFO(bad);
    CHECK_FALSE(FileIdentity::parse(bad).has_value());
  }
}

TEST_CASE("an empty file has no identity yet", "[identity]") {
  TempDir dir;
  const std::string path = dir.file("empty.log");
  append(path, "");
  OpenFile f(path);
  CHECK_FALSE(identify(f.fd).ok());
}
