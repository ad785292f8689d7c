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
  // Put our key unless this session already has one; either way learn its create revision.
  TxnRequest t = Txn()
                     .when(compare_create_revision(key_, Compare::Op::kEqual, 0))
                     .then(op_put(key_, "", session_.lease()))
                     .otherwise(op_get(key_))
                     .build();
  auto r = session_.client().txn(std::move(t));
  if (!r.ok()) return r.error();
  revision_ = r->header.revision;
  if (!r->succeeded) {
    const auto* got = r->responses.empty() ? nullptr : std::get_if<RangeResult>(&r->responses[0].result);
    if (got == nullptr || got->kvs.empty()) return make_error(ErrorCode::kInternal, "lock key vanished: " + key_);
    revision_ = got->kvs[0].create_revision;
  }
  Status waited = wait_for_predecessors(session_.client(), prefix_, revision_, should_stop);
  if (!waited.ok()) {
    (void)unlock();
    return waited;
  }
  return Status();
}

Status Mutex::unlock() {
  auto r = session_.client().del(key_);
  if (!r.ok()) return r.error();
  return Status();
}

}  // namespace corral::client::concurrency
