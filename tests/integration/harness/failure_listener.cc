// Records whether the running test case has failed an assertion, so that a
// Cluster can keep its data dirs and logs for a failed test only.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <atomic>

#include "tests/integration/harness/cluster.h"

namespace corral::integration {

namespace {

std::atomic<bool> g_failed{false};

struct FailureListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { g_failed = false; }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) g_failed = true;
    return true;
  }
};

CATCH_REGISTER_LISTENER(FailureListener)

}  // namespace

bool current_test_failed() { return g_failed.load(); }

}  // namespace corral::integration
