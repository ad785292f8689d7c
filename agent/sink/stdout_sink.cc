#include "agent/sink/stdout_sink.h"

#include "agent/sink/fs_util.h"
#include "agent/sink/task.h"

namespace corral::agent::sink {

StdoutSink::StdoutSink(int fd) : fd_(fd) {}

std::string StdoutSink::describe() const { return fd_ == STDOUT_FILENO ? "stdout" : "fd:" + std::to_string(fd_); }

Status StdoutSink::append(std::string_view task, std::string_view lines, Clock::time_point) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  if (auto s = check_whole_lines(task, lines); !s.ok()) return s;
  std::lock_guard lock(mu_);
  if (Status failed = failed_.check(task); !failed.ok()) return failed;
  return failed_.record(task, write_all(fd_, lines, describe()));
}

Status StdoutSink::make_durable(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  return failed_.check(task);
}

Status StdoutSink::close(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  return failed_.clear(task);
}

}  // namespace corral::agent::sink
