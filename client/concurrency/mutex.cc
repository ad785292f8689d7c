#include "client/concurrency/mutex.h"

#include <cstdio>

#include "client/txn.h"

namespace corral::client::concurrency {

std::string queue_prefix(std::string name) {
  if (name.empty() || name.back() != '/') name.push_back('/');
  return name;
}

std::string session_key(const std::string& prefix, int64_t lease) {
  char id[17];
  std::snprintf(id, sizeof(id), "%llx", static_cast<unsigned long long>(lease));
  return prefix + id;
}

Mutex::Mutex(Session& session, std::string name)
    : session_(session), prefix_(queue_prefix(std::move(name))), key_(session_key(prefix_, session.lease())) {}

Status Mutex::lock(const StopCheck& should_stop) {
  auto place = join_queue(session_.client(), prefix_, key_, session_.lease(), "", false, should_stop);
  if (!place.ok()) return place.error();
  revision_ = *place;
  return Status();
}

Status Mutex::unlock() {
  auto r = session_.client().del(key_);
  if (!r.ok()) return r.error();
  return Status();
}

}  // namespace corral::client::concurrency
