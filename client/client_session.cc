// The session token of Options::user: fetched once (by the first request
// that needs it) and again when a member says it expired.
#include "client/client_impl.h"

namespace corral::client {

bool Client::Impl::is_login(const Pending& p) {
  auto* a = std::get_if<AuthRequest>(&p.body);
  return a != nullptr && a->kind == AuthRequest::Kind::kAuthenticate;
}

const std::string& Client::Impl::token_for(const Pending& p) const {
  static const std::string kNone;
  if (p.token) return *p.token;
  return uses_session(p) ? session_token : kNone;
}

void Client::Impl::start_login() {
  if (authenticating) return;
  authenticating = true;
  auto p = std::make_unique<Pending>();
  AuthRequest login;
  login.kind = AuthRequest::Kind::kAuthenticate;
  login.name = options.user;
  login.password = options.password;
  p->body = std::move(login);
  p->cls = RequestClass::kRead;
  p->counted = false;
  p->deadline = Clock::now() + options.request_timeout;
  p->internal_done = [this](Pending&, Result<ResponseBody> r) { login_done(std::move(r)); };
  dispatch(std::move(p));
}

void Client::Impl::login_done(Result<ResponseBody> r) {
  authenticating = false;
  std::deque<PendingPtr> waiting = std::move(awaiting_token);
  awaiting_token.clear();
  if (r.ok()) {
    session_token = std::get<AuthResult>(r.value()).token;
    have_session = true;
    for (auto& p : waiting) dispatch(std::move(p));
    return;
  }
  Error e = r.error();
  e.message = "authenticating as " + options.user + ": " + e.message;
  for (auto& p : waiting) complete(std::move(p), e);
}

}  // namespace corral::client
