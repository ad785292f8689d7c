#include "coordinator/auth/auth_store.h"

#include <catch2/catch.hpp>

#include "coordinator/auth/password.h"

namespace corral::auth {
namespace {

const std::string kAll("\0", 1);
const std::string kKey(kSigningKeyBytes, 'k');

std::unique_ptr<storage::Engine> memory_engine() {
  storage::EngineOptions options;
  options.path = "/auth-store-test";
  options.in_memory = true;
  auto engine = storage::Engine::open(options);
  REQUIRE(engine.ok());
  return std::move(engine).value();
}

// Applies one change and writes its batch, as apply does.
template <typename F>
Status change(storage::Engine& engine, F f) {
  storage::WriteBatch batch;
  Status s = f(batch);
  if (s.ok()) {
    REQUIRE(engine.write(std::move(batch), false).ok());
  } else {
    CHECK(batch.empty());  // a refused change stages nothing
  }
  return s;
}

TEST_CASE("auth store: enable needs root, root may do anything, others what their roles grant") {
  auto engine = memory_engine();
  AuthStore store;
  REQUIRE(store.load(*engine).ok());
  CHECK(store.check("nobody", "/x", "", Access::kWrite));  // disabled: open

  auto enable = [&](storage::WriteBatch& b) { return store.enable(kKey, b); };
  auto refused = change(*engine, enable);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("root") != std::string::npos);

  REQUIRE(change(*engine, [&](auto& b) { return store.add_user("root", hash_password("r", 10), b); }).ok());
  REQUIRE(change(*engine, [&](auto& b) { return store.add_user("alice", hash_password("a", 10), b); }).ok());
  REQUIRE(change(*engine, [&](auto& b) { return store.add_role("web", b); }).ok());
  REQUIRE(change(*engine, [&](auto& b) {
            return store.grant_permission("web", Permission{true, true, "/apps/web/", "/apps/web0"}, b);
          }).ok());
  REQUIRE(change(*engine, [&](auto& b) { return store.grant_role("alice", "web", b); }).ok());
  REQUIRE(change(*engine, enable).ok());
  CHECK(store.enabled());

  CHECK(store.check("root", "", kAll, Access::kWrite));
  CHECK(store.check("alice", "/apps/web/a", "", Access::kWrite));
  CHECK_FALSE(store.check("alice", "/apps/db/a", "", Access::kRead));
  CHECK_FALSE(store.check("nobody", "/apps/web/a", "", Access::kRead));
  CHECK_FALSE(store.check("", "/apps/web/a", "", Access::kRead));

  SECTION("the store reloads the same from disk") {
    AuthStore again;
    REQUIRE(again.load(*engine).ok());
    CHECK(again.enabled());
    CHECK(again.revision() == store.revision());
    CHECK(again.signing_key() == kKey);
    CHECK(again.check("alice", "/apps/web/a", "", Access::kWrite));
    CHECK_FALSE(again.check("alice", "/apps/db/a", "", Access::kWrite));
    CHECK(again.user_names() == std::vector<std::string>{"alice", "root"});
    CHECK(again.role_names() == std::vector<std::string>{"root", "web"});
  }
  SECTION("revoking a permission or deleting a role takes access away") {
    REQUIRE(change(*engine, [&](auto& b) { return store.revoke_permission("web", "/apps/web/", "/apps/web0", b); }).ok());
    CHECK_FALSE(store.check("alice", "/apps/web/a", "", Access::kRead));
    CHECK(change(*engine, [&](auto& b) { return store.revoke_permission("web", "/apps/web/", "", b); }).error().code ==
          ErrorCode::kNotFound);
    REQUIRE(change(*engine, [&](auto& b) { return store.delete_role("web", b); }).ok());
    CHECK(store.user("alice")->roles.empty());
  }
  SECTION("root stays while enabled; a refused change stages nothing") {
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.delete_user("root", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.revoke_role("root", "root", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.delete_role("root", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.add_user("alice", "", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.add_user("", "", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) { return store.grant_role("alice", "nope", b); }).ok());
    CHECK_FALSE(change(*engine, [&](auto& b) {
                  return store.grant_permission("web", Permission{true, false, "/b", "/a"}, b);
                }).ok());
    CHECK(store.is_root("root"));
  }
  SECTION("a password change or re-creation moves the token revision") {
    auto before = store.user("alice")->token_revision;
    REQUIRE(change(*engine, [&](auto& b) { return store.change_password("alice", hash_password("b", 10), b); }).ok());
    auto changed = store.user("alice")->token_revision;
    CHECK(changed > before);
    REQUIRE(change(*engine, [&](auto& b) { return store.delete_user("alice", b); }).ok());
    REQUIRE(change(*engine, [&](auto& b) { return store.add_user("alice", "", b); }).ok());
    CHECK(store.user("alice")->token_revision > changed);
  }
  SECTION("disable opens access and forgets the key") {
    REQUIRE(change(*engine, [&](auto& b) { return store.disable(b); }).ok());
    CHECK(store.check("nobody", "/apps/db/a", "", Access::kWrite));
    CHECK(store.signing_key().empty());
  }
}

}  // namespace
}  // namespace corral::auth
