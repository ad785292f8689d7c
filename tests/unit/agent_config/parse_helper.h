// Runs parse_agent_config on a list of arguments, and the small fixtures
// the config tests share (a temp config file, an environment variable).
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "agent/config/config.h"

namespace corral::agent::config::testing {

inline ParseOutcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "corral-agent");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parse_agent_config(static_cast<int>(argv.size()), argv.data());
}

inline AgentConfig parse_config(std::vector<std::string> args) {
  ParseOutcome out = parse(std::move(args));
  REQUIRE_FALSE(out.print_and_exit);
  return out.config;
}

// The ConfigError's message; fails the test if parsing succeeds.
inline std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("parsing succeeded; an error was expected");
  return "";
}

// A minimal valid source agent's flags.
inline std::vector<std::string> source_flags() {
  return {"--endpoints", "tcp://127.0.0.1:2379", "--ip", "10.0.0.11", "--roles", "source",
          "--listen", "tcp://0.0.0.0:7070", "--source", "web/access=/var/log/access.log"};
}

inline std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string pattern = "/tmp/corral-agent-config-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) { ::setenv(name_.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace corral::agent::config::testing
