#include "coordinator/http/request_context.h"

namespace corral::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> token_of(std::string_view authorization) {
  std::string_view v = trim(authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() >= kBearer.size() && std::equal(kBearer.begin(), kBearer.end(), v.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      })) {
    v = trim(v.substr(kBearer.size()));
  }
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

client::CallOptions options_for(const RequestContext& context) {
  client::CallOptions options;
  options.token = context.token;
  return options;
}

client::WatchOptions watch_options_for(const RequestContext& context, client::WatchOptions options) {
  options.token = context.token;
  return options;
}

}  // namespace corral::http
