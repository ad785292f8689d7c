#include "agent/sink/task.h"

#include <vector>

namespace corral::agent::sink {
namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxMachineIpBytes = 64;
constexpr size_t kTaskSegments = 3;

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool ip_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == ':' || c == '-';
}

bool valid_segment(std::string_view s, size_t max_bytes, bool (*allowed)(char)) {
  if (s.empty() || s.size() > max_bytes || s == "." || s == "..") return false;
  for (char c : s) {
    if (!allowed(c)) return false;
  }
  return true;
}

std::vector<std::string_view> split_slash(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

Result<TaskName> parse_task(std::string_view task) {
  auto parts = split_slash(task);
  bool ok = parts.size() == kTaskSegments && valid_segment(parts[0], kMaxIdBytes, id_char) &&
            valid_segment(parts[1], kMaxIdBytes, id_char) &&
            valid_segment(parts[2], kMaxMachineIpBytes, ip_char);
  if (!ok) {
    return make_sink_error(SinkErrorCode::kBadInput,
                           "task '" + std::string(task) + "' is not <app>/<topic>/<machine-ip>");
  }
  return TaskName{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
}

Status check_whole_lines(std::string_view task, std::string_view bytes) {
  if (bytes.empty() || bytes.back() == '\n') return Status::ok_status();
  return make_sink_error(SinkErrorCode::kBadInput,
                         "task " + std::string(task) + ": a batch must end with a newline (whole lines only)");
}

}  // namespace corral::agent::sink
