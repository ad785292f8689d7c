#include "coordinator/server/join_discovery.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "coordinator/api/errors.h"
#include "coordinator/api/response.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/net/poller.h"
#include "coordinator/server/log.h"
#include "coordinator/server/members.h"
#include "schema/api.capnp.h"
#include "schema/aligned_words.h"

namespace corral::server {

namespace wire = corral::schema::api;
using Clock = std::chrono::steady_clock;

namespace {

// Answers the joiner hears at most, per query round (a bound on the work
// one peer's noise can cause).
constexpr size_t kMaxFramesPerWait = 256;

std::string answer_frame(uint64_t cluster_id, const std::optional<MemberInfo>& self,
                         const std::map<uint64_t, MemberInfo>& members, const std::string& refusal) {
  api::Header h;
  h.cluster_id = cluster_id;
  api::ResponseBuilder b(0, h);
  if (self) {
    auto out = b.response().initMemberAdd();
    fill_member(out.initMember(), *self);
    auto list = out.initMembers(members.size());
    size_t i = 0;
    for (const auto& [id, m] : members) fill_member(list[i++], m);
  } else {
    auto e = b.response().initError();
    e.setCode(wire::ErrorCode::BAD_REQUEST);
    e.setMessage(refusal);
  }
  return std::string(kJoinAnswerTag) + b.finish();
}

MemberInfo member_of(wire::Member::Reader m) {
  MemberInfo out;
  out.id = m.getId();
  out.name = m.getName();
  for (auto u : m.getPeerUrls()) out.peer_urls.emplace_back(u);
  for (auto u : m.getClientUrls()) out.client_urls.emplace_back(u);
  out.is_learner = m.getIsLearner();
  return out;
}

// An acceptance, or the refusal's text (kBadRequest), or kInternal for bytes
// that are not an answer.
Result<JoinResult> decode_answer(std::string_view bytes) {
  auto words = schema::aligned_words(bytes);
  if (!words) return make_error(ErrorCode::kInternal, "join answer has a bad length");
  try {
    capnp::FlatArrayMessageReader reader(words->asPtr());
    auto msg = reader.getRoot<wire::ServerMessage>();
    if (!msg.isResponse()) return make_error(ErrorCode::kInternal, "join answer is not a response");
    auto r = msg.getResponse();
    if (r.isError()) return make_error(ErrorCode::kBadRequest, r.getError().getMessage());
    if (!r.isMemberAdd()) return make_error(ErrorCode::kInternal, "join answer of an unknown kind");
    JoinResult out;
    out.cluster_id = r.getHeader().getClusterId();
    out.self = member_of(r.getMemberAdd().getMember());
    for (auto m : r.getMemberAdd().getMembers()) out.members.push_back(member_of(m));
    return out;
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kInternal, std::string("join answer: ") + e.getDescription().cStr());
  }
}

uint64_t provisional_id() {
  std::random_device rd;
  uint64_t id = (static_cast<uint64_t>(rd()) << 32) | rd();
  return id | (uint64_t{1} << 63);  // never 0
}

}  // namespace

JoinReply answer_join_query(std::string_view query, uint64_t cluster_id,
                            const std::map<uint64_t, MemberInfo>& members) {
  auto asked = decode_member(query);
  if (!asked.ok() || asked->peer_urls.size() != 1 || asked->name.empty()) return {};
  for (const auto& [id, m] : members) {
    if (m.peer_urls.empty() || m.peer_urls[0] != asked->peer_urls[0]) continue;
    if (m.name == asked->name) return JoinReply{id, answer_frame(cluster_id, m, members, {})};
    return JoinReply{id, answer_frame(cluster_id, std::nullopt, members,
                                      "peer URL " + m.peer_urls[0] + " belongs to member '" + m.name +
                                          "', not '" + asked->name + "'")};
  }
  return {};
}

Status add_contacts(JoinRequest& request, const std::vector<MemberInfo>& members, std::string_view self_name,
                    const CurveSetup* curve) {
  if (curve) request.curve = curve->own;
  for (const auto& m : members) {
    if (m.name == self_name) continue;
    request.contacts.push_back(m.peer_urls.at(0));
    if (curve) {
      auto listed = curve->peer_key(m.name);
      if (!listed.ok()) return listed.error();
      request.contact_keys.push_back(*listed);
    }
  }
  return Status();
}

namespace {

// What the joiner heard besides its answer.
struct Heard {
  std::set<std::string> refusals;
  // Contacts that asked us the same question: they are starting too, not
  // running (members started at once must not wait for each other).
  std::vector<bool> probing;
};

// The index of the contact at peer URL `url`, if one is.
std::optional<size_t> contact_of(const JoinRequest& request, std::string_view url) {
  auto asked = net::parse_endpoint(url, net::EndpointUse::kConnect);
  for (size_t i = 0; asked.ok() && i < request.contacts.size(); ++i) {
    auto c = net::parse_endpoint(request.contacts[i], net::EndpointUse::kConnect);
    if (c.ok() && c->to_zmq() == asked->to_zmq()) return i;
  }
  return std::nullopt;
}

// One frame from a contact: the answer that names this member, or nothing
// (a refusal or a contact's own query is noted in `heard`).
std::optional<JoinResult> take_frame(const JoinRequest& request, std::string_view bytes, Heard& heard) {
  // Raft traffic of the cluster to this member arrives too; only answers
  // and queries count.
  if (bytes.starts_with(kJoinQueryTag)) {
    auto asker = decode_member(bytes.substr(kJoinQueryTag.size()));
    if (asker.ok() && asker->peer_urls.size() == 1) {
      if (auto i = contact_of(request, asker->peer_urls[0])) heard.probing[*i] = true;
    }
    return std::nullopt;
  }
  if (!bytes.starts_with(kJoinAnswerTag)) return std::nullopt;
  auto answer = decode_answer(bytes.substr(kJoinAnswerTag.size()));
  if (answer.ok() && answer->self.id != 0 && answer->self.name == request.name) return std::move(answer).value();
  if (!answer.ok() && answer.error().code == ErrorCode::kBadRequest) heard.refusals.insert(answer.error().message);
  return std::nullopt;
}

// A transport on the member's peer URL with a link to each contact.
Result<std::unique_ptr<net::PeerTransport>> open_contacts(zmq::context_t& context, const JoinRequest& request) {
  net::PeerTransportOptions po;
  po.self_id = provisional_id();
  po.bind_endpoint = request.listen_peer;
  po.curve = request.curve;
  po.wire = request.peer_wire;
  if (request.curve && request.contact_keys.size() != request.contacts.size()) {
    return make_error(ErrorCode::kBadRequest, "join: CURVE is on but not every contact has a key");
  }
  auto transport = net::PeerTransport::create(context, po);
  if (!transport.ok()) {
    return make_error(ErrorCode::kUnavailable, "peer listener " + request.listen_peer + ": " + transport.error().message);
  }
  // The contacts' ids are unknown: any distinct placeholder names the link.
  for (size_t i = 0; i < request.contacts.size(); ++i) {
    std::optional<std::string> key;
    if (request.curve) key = request.contact_keys[i];
    auto s = (*transport)->add_peer(i + 1, request.contacts[i], key);
    if (!s.ok()) return make_error(ErrorCode::kBadRequest, "--initial-cluster: " + s.error().message);
  }
  return transport;
}

Error not_joined(const JoinRequest& request, const std::set<std::string>& refusals) {
  if (!refusals.empty()) {
    std::string all;
    for (const auto& r : refusals) all += (all.empty() ? "" : "; ") + r;
    return make_error(ErrorCode::kBadRequest, "the cluster refused this member: " + all);
  }
  return make_error(ErrorCode::kUnavailable,
                    "--initial-cluster-state existing on an empty data dir, and no member of --initial-cluster "
                    "knows a member " + request.name + " at " + request.advertise_peer + " within " +
                        std::to_string(request.timeout.count()) +
                        " ms: add it first (corralctl member add), or start a new cluster with "
                        "--initial-cluster-state new");
}

}  // namespace

Result<JoinResult> discover_membership(zmq::context_t& context, const JoinRequest& request) {
  if (request.contacts.empty()) {
    return make_error(ErrorCode::kBadRequest,
                      "--initial-cluster-state existing on an empty data dir: --initial-cluster names no other "
                      "member to join through");
  }
  auto opened = open_contacts(context, request);
  if (!opened.ok()) return opened.error();
  net::PeerTransport& transport = **opened;
  auto poller = net::Poller::create();
  if (!poller.ok()) return poller.error();
  const size_t peer_slot = transport.watch_with(**poller);
  MemberInfo me;
  me.name = request.name;
  me.peer_urls = {request.advertise_peer};
  const std::string query = std::string(kJoinQueryTag) + encode_member(me);
  if (request.log_joining) {
    log_event("joining an existing cluster as %s (%s): asking %zu members for its id", request.name.c_str(),
              request.advertise_peer.c_str(), request.contacts.size());
  }

  Heard heard;
  heard.probing.assign(request.contacts.size(), false);
  std::vector<net::PeerMessage> in;
  const auto started = Clock::now();
  const auto deadline = started + request.timeout;
  const auto connected_deadline = started + std::max(request.timeout, request.timeout_while_connected);
  auto running_contact_connected = [&] {
    for (size_t i = 0; i < request.contacts.size(); ++i) {
      if (!heard.probing[i] && transport.connected(i + 1)) return true;
    }
    return false;
  };
  // A refusal is an answer: no reason to wait longer for another.
  while (Clock::now() < deadline ||
         (Clock::now() < connected_deadline && heard.refusals.empty() && running_contact_connected())) {
    for (size_t i = 0; i < request.contacts.size(); ++i) (void)transport.send(i + 1, query);
    const auto round_end =
        std::min(Clock::now() < deadline ? deadline : connected_deadline, Clock::now() + kJoinQueryRetryMs);
    while (Clock::now() < round_end) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(round_end - Clock::now());
      transport.maintain(Clock::now());
      if (transport.inbound_drained()) {
        (*poller)->drained(peer_slot);
      } else {
        (*poller)->used(peer_slot);
      }
      if (!(*poller)->wait(wait).ok()) return make_error(ErrorCode::kUnavailable, "shutting down");
      in.clear();
      transport.receive(kMaxFramesPerWait, in);
      for (const auto& pm : in) {
        if (auto answer = take_frame(request, pm.bytes, heard)) return std::move(*answer);
      }
    }
  }
  return not_joined(request, heard.refusals);
}

}  // namespace corral::server
