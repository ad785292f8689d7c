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
  if (auto it = failed_.find(task); it != failed_.end()) return it->second;
  Status s = write_all(fd_, lines, describe());
  if (!s.ok()) failed_.emplace(std::string(task), s.error());
  return s;
}

Status StdoutSink::make_durable(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  if (auto it = failed_.find(task); it != failed_.end()) return it->second;
  return Status::ok_status();
}

Status StdoutSink::close(std::string_view task) {
  if (auto name = parse_task(task); !name.ok()) return name.error();
  std::lock_guard lock(mu_);
  auto it = failed_.find(task);
  if (it == failed_.end()) return Status::ok_status();
  SinkError error = it->second;
  failed_.erase(it);
  return error;
}

}  // namespace corral::agent::sink
