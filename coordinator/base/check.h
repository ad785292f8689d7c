// Invariant checks that stay on in release builds: a broken invariant in a
// replicated state machine must stop the process, not corrupt data quietly.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CORRAL_CHECK(cond)                                                        \
  do {                                                                            \
    if (!(cond)) [[unlikely]] {                                                   \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

#define CORRAL_CHECK_MSG(cond, msg)                                               \
  do {                                                                            \
    if (!(cond)) [[unlikely]] {                                                   \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, (msg));                                                 \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
