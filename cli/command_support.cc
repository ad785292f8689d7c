#include "cli/command_support.h"

#include <signal.h>

#include <charconv>
#include <cstdio>
#include <ctime>

#include "cli/txn_text.h"

namespace corral::cli {

using client::Error;
using client::ErrorCode;

namespace {
std::function<std::string()> explain_no_member;
}  // namespace

int exit_code_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnreachable:
    case ErrorCode::kClosed:
      return kExitUnreachable;
    case ErrorCode::kTimeout:
      return kExitTimeout;
    case ErrorCode::kStorage:
      return e.message.find("write") != std::string::npos ||
                     e.message.find("fsync") != std::string::npos ||
                     e.message.find("cannot create") != std::string::npos ||
                     e.message.find("rename") != std::string::npos
                 ? kExitLocal
                 : kExitServerError;
    default:
      return kExitServerError;
  }
}

void set_no_member_explainer(std::function<std::string()> explain) { explain_no_member = std::move(explain); }

int fail(const Error& e) {
  std::fprintf(stderr, "Error: %s\n", to_string(e).c_str());
  const bool no_member = e.code == ErrorCode::kUnreachable || e.code == ErrorCode::kTimeout ||
                         e.code == ErrorCode::kUnavailable;
  if (no_member && explain_no_member) {
    const std::string why = explain_no_member();
    if (!why.empty()) std::fprintf(stderr, "%s\n", why.c_str());
  }
  return exit_code_for(e);
}

int fail_lease(const Error& e, int64_t lease) {
  if (e.code != ErrorCode::kLeaseNotFound) return fail(e);
  Error named = e;
  named.message = "lease " + client::hex_id(static_cast<uint64_t>(lease)) + " not found";
  return fail(named);
}

int fail_member(const Error& e, uint64_t member) {
  if (e.code != ErrorCode::kNotFound) return fail(e);
  Error named = e;
  named.message = "member " + client::hex_id(member) + " not found";
  return fail(named);
}

int fail_local(const Error& e) {
  std::fprintf(stderr, "Error: %s\n", to_string(e).c_str());
  return kExitLocal;
}

CLI::Validator at_least(int64_t min, const std::string& noun) {
  return CLI::Validator(
      [min, noun](std::string& text) -> std::string {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) {
          return "must be " + noun + " (a whole number), got '" + text + "'";
        }
        if (v < min) return "must be " + noun + " of at least " + std::to_string(min) + ", got " + text;
        return {};
      },
      noun + " >= " + std::to_string(min));
}

std::optional<uint64_t> hex_id_arg(const std::string& text, const std::string& what, bool& bad) {
  if (text.empty()) return std::nullopt;
  std::optional<uint64_t> id = parse_hex_id(text);
  if (!id) {
    std::fprintf(stderr, "Error: %s'%s' is not a hexadecimal id\n", what.c_str(), text.c_str());
    bad = true;
  }
  return id;
}

bool interrupted_within(int64_t ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

}  // namespace corral::cli
