// Uses the installed client library without a cluster: Client::connect
// checks its endpoints and starts its I/O thread (ZeroMQ) without waiting for
// a connection, so a bad endpoint is refused and a good one gives a client.
#include <cstdio>
#include <cstring>
#include <utility>

// Every installed header, so that one that needs a header not installed
// fails here.
#include "client/client.h"
#include "client/codec.h"
#include "client/collection.h"
#include "client/duration.h"
#include "client/error.h"
#include "client/lease_keeper.h"
#include "client/retry.h"
#include "client/txn.h"
#include "client/types.h"
#include "client/watch_cursor.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: corral_consumer --smoke\n");
    return 0;
  }
  namespace cc = corral::client;
  cc::Options bad;
  bad.endpoints = {"not an endpoint"};
  auto refused = cc::Client::connect(std::move(bad));
  if (refused.ok()) {
    std::fprintf(stderr, "a bad endpoint was accepted\n");
    return 1;
  }
  std::printf("refused: %s\n", cc::to_string(refused.error()).c_str());

  // As README.md's Install section shows it.
  auto client = cc::Client::connect({.endpoints = {"tcp://127.0.0.1:1"}});
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", cc::to_string(client.error()).c_str());
    return 1;
  }
  std::printf("smoke ok\n");
  return 0;
}
