#include "coordinator/server/password_worker.h"

#include "coordinator/auth/password.h"

namespace corral::server {

PasswordWorker::PasswordWorker(std::function<void()> wake)
    : jobs_(
          [](PasswordCheck& check) {
            check.matched = auth::verify_password(check.password, check.stored_hash);
            check.password.assign(check.password.size(), '\0');  // not kept longer than needed
          },
          std::move(wake), {kMaxQueuedChecks, kMaxQueuedBytes},
          [](const PasswordCheck& c) { return uint64_t{c.password.size() + c.stored_hash.size() + c.user.size()}; }) {}

}  // namespace corral::server
