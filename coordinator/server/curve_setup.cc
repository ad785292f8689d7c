#include "coordinator/server/curve_setup.h"

#include "coordinator/net/curve_key_file.h"

namespace corral::server {
namespace {

Error bad(std::string what) { return make_error(ErrorCode::kBadRequest, std::move(what)); }

}  // namespace

Result<std::string> CurveSetup::peer_key(const std::string& member_name) const {
  if (auto key = lists.peers.key_of(member_name)) return *key;
  return bad("member '" + member_name + "' has no key in --peer-curve-allow-file " + files.peer_allow_file);
}

Result<CurveAllowLists> load_curve_allow_lists(const CurveFiles& files) {
  CurveAllowLists lists;
  auto clients = net::load_curve_allow_file(files.client_allow_file, /*unique_names=*/false);
  if (!clients.ok()) return bad("--client-curve-allow-file: " + clients.error().message);
  auto peers = net::load_curve_allow_file(files.peer_allow_file, /*unique_names=*/true);
  if (!peers.ok()) return bad("--peer-curve-allow-file: " + peers.error().message);
  lists.clients = std::move(clients).value();
  lists.peers = std::move(peers).value();
  return lists;
}

Result<std::shared_ptr<const CurveSetup>> load_curve_setup(const CurveFiles& files) {
  if (!files.any()) return std::shared_ptr<const CurveSetup>();
  if (files.key_file.empty()) {
    return bad(std::string(files.client_allow_file.empty() ? "--peer-curve-allow-file" : "--client-curve-allow-file") +
               " needs --curve-key-file (the member's own key pair): an allow-list without CURVE checks nothing");
  }
  if (files.client_allow_file.empty() || files.peer_allow_file.empty()) {
    return bad("--curve-key-file needs " +
               std::string(files.client_allow_file.empty() ? "--client-curve-allow-file" : "--peer-curve-allow-file") +
               " too: without it nobody (or anybody) could connect");
  }
  if (!net::curve_available()) return bad("--curve-key-file: this libzmq has no CURVE support");
  auto own = net::load_curve_key_pair(files.key_file);
  if (!own.ok()) return bad("--curve-key-file: " + own.error().message);
  auto lists = load_curve_allow_lists(files);
  if (!lists.ok()) return lists.error();
  auto setup = std::make_shared<CurveSetup>();
  setup->files = files;
  setup->own = std::move(own).value();
  setup->lists = std::move(lists).value();
  return std::shared_ptr<const CurveSetup>(std::move(setup));
}

}  // namespace corral::server
