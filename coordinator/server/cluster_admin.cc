// Membership: member list/add/remove/promote and move-leader requests, their
// answers once applied, and each member's published attributes (client URLs).
#include "coordinator/server/node_loop.h"

#include <algorithm>
#include <cstdio>

#include "coordinator/net/endpoint.h"
#include "coordinator/server/apply_version.h"

namespace corral::server {

namespace {

// A member re-sends its attributes this often until they are applied.
constexpr int kPublishRetryMs = 500;

}  // namespace

void NodeLoop::handle_cluster(const net::ConnectionId& conn, const api::ParsedRequest& req) {
  auto r = req.get();
  if (r.isMemberList()) {
    api::ResponseBuilder b(r.getId(), header());
    fill_members(b.response().initMemberList().initMembers(state_->members().size()));
    return reply(conn, b.finish());
  }
  if (!is_leader()) return reply_error(conn, r.getId(), api::not_leader_error(leader_hint()));
  if (r.isMoveLeader()) return handle_move_leader(conn, r.getId(), r.getMoveLeader().getTargetId());
  raft::ConfChange cc;
  ConfChangeContext ctx;
  ctx.proposer = self_id_;
  ctx.proposal_id = next_proposal_id_;
  std::optional<api::WireError> refused;
  if (r.isMemberAdd()) {
    refused = plan_member_add(r.getMemberAdd(), cc, ctx);
  } else if (r.isMemberRemove()) {
    cc.type = raft::ConfChangeType::kRemoveNode;
    cc.node_id = r.getMemberRemove().getId();
    if (!state_->members().count(cc.node_id)) refused = api::wire_error(wire::ErrorCode::NOT_FOUND, "no such member");
  } else {
    cc.type = raft::ConfChangeType::kAddNode;
    cc.node_id = r.getMemberPromote().getId();
    auto it = state_->members().find(cc.node_id);
    if (it == state_->members().end() || !it->second.is_learner) {
      refused = api::wire_error(wire::ErrorCode::BAD_REQUEST, "not a learner of this cluster");
    }
  }
  if (refused) return reply_error(conn, r.getId(), *refused);
  cc.context = encode_conf_context(ctx);
  auto s = raw_->propose_conf_change(cc);
  if (s != raft::Status::kOk) {
    auto code = s == raft::Status::kConfChangePending ? wire::ErrorCode::UNAVAILABLE : wire::ErrorCode::BAD_REQUEST;
    return reply_error(conn, r.getId(), api::wire_error(code, std::string("membership change refused: ") + raft::status_name(s)));
  }
  pending_[next_proposal_id_++] = PendingProposal{conn, r.getId(), r.which(),
                                                  Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms),
                                                  cc.node_id};
}

void NodeLoop::handle_move_leader(const net::ConnectionId& conn, uint64_t request_id, uint64_t target) {
  auto member = state_->members().find(target);
  if (member == state_->members().end()) {
    return reply_error(conn, request_id, api::wire_error(wire::ErrorCode::NOT_FOUND, "no such member"));
  }
  // Raft ignores a transfer to a learner (it cannot vote or lead): say so
  // instead of answering OK for a move that never happens (etcd:
  // ErrBadLeaderTransferee).
  if (member->second.is_learner) {
    return reply_error(conn, request_id, api::wire_error(wire::ErrorCode::BAD_REQUEST, "target is a learner"));
  }
  if (soft_.leader == target) {
    api::ResponseBuilder b(request_id, header());
    b.response().initMoveLeader();
    return reply(conn, b.finish());
  }
  // Past its last ask (kMaxLeaderMoveAsks, an election timeout apart) and
  // the election timeout raft gives that transfer, a move cannot happen:
  // answer then, not at the request timeout (longer than a client's usual
  // deadline).
  const auto now = Clock::now();
  const int election_ms = options_.tick_ms * options_.election_ticks;
  const int wait_ms = std::min(options_.request_timeout_ms, (kMaxLeaderMoveAsks + 1) * election_ms);
  if (!leader_moves_.add(conn, request_id, target, now, now + std::chrono::milliseconds(wait_ms))) {
    return reply_error(conn, request_id,
                       api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many leadership transfers waiting"));
  }
  raw_->transfer_leader(target);
}

void NodeLoop::answer_leader_moves() {
  if (leader_moves_.empty()) return;
  const bool transfer_running = is_leader() && raw_->status().lead_transferee != raft::kNoNode;
  leader_moves_.step(
      Clock::now(), soft_.leader, transfer_running, [this](uint64_t target) { raw_->transfer_leader(target); },
      [this](const LeaderMoves::Waiter& w, bool moved) {
        if (!moved) {
          char text[96];
          std::snprintf(text, sizeof(text), "leadership transfer to %016llx not done in time",
                        static_cast<unsigned long long>(w.target));
          return reply_error(w.connection, w.request_id, api::wire_error(wire::ErrorCode::TIMEOUT, text));
        }
        api::ResponseBuilder b(w.request_id, header());
        b.response().initMoveLeader();
        reply(w.connection, b.finish());
      });
}

std::optional<api::WireError> NodeLoop::plan_member_add(wire::MemberAddRequest::Reader ma, raft::ConfChange& cc,
                                                        ConfChangeContext& ctx) {
  MemberInfo m;
  m.name = ma.getName();
  if (m.name.empty() || m.name.size() > api::kMaxMemberNameBytes || ma.getPeerUrls().size() == 0 ||
      ma.getPeerUrls().size() > api::kMaxUrlsPerMember || ma.getClientUrls().size() > api::kMaxUrlsPerMember) {
    return api::wire_error(wire::ErrorCode::BAD_REQUEST,
                           "member needs a name and 1.." + std::to_string(api::kMaxUrlsPerMember) + " peer URLs");
  }
  for (auto u : ma.getPeerUrls()) {
    auto ep = net::parse_endpoint(u.cStr(), net::EndpointUse::kConnect);
    if (!ep.ok()) return api::to_wire_error(ep.error());
    m.peer_urls.push_back(ep->to_zmq());
  }
  for (auto u : ma.getClientUrls()) m.client_urls.emplace_back(u);
  m.is_learner = ma.getIsLearner();
  if (auto clash = member_add_clash(m)) return api::wire_error(wire::ErrorCode::BAD_REQUEST, *clash);
  // A new id, never one in use or removed: apply checks it again.
  auto st = raw_->status();
  auto id = added_member_id(cluster_id_, st.hard_state.term, st.last_index + 1, m.name,
                            [this](uint64_t candidate) { return state_->member_id_taken(candidate); });
  if (!id.ok()) return api::to_wire_error(id.error());
  m.id = *id;
  ctx.member = encode_member(m);
  cc.type = m.is_learner ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddNode;
  cc.node_id = m.id;
  return std::nullopt;
}

// Why a member cannot be added as `m`: its name or a peer URL is a current
// member's.
std::optional<std::string> NodeLoop::member_add_clash(const MemberInfo& m) const {
  for (const auto& [id, other] : state_->members()) {
    if (other.name == m.name) return "member name " + m.name + " already in use";
    for (const auto& url : m.peer_urls) {
      if (std::find(other.peer_urls.begin(), other.peer_urls.end(), url) != other.peer_urls.end()) {
        return "peer URL " + url + " is member " + other.name + "'s";
      }
    }
  }
  return std::nullopt;
}

void NodeLoop::answer_conf(uint64_t proposal_id, const std::optional<api::WireError>& err) {
  auto it = pending_.find(proposal_id);
  if (it == pending_.end()) return;
  auto p = it->second;
  pending_.erase(it);
  if (err) return reply_error(p.connection, p.request_id, *err);
  api::ResponseBuilder b(p.request_id, header());
  size_t n = state_->members().size();
  switch (p.kind) {
    case wire::Request::MEMBER_ADD: {
      auto out = b.response().initMemberAdd();
      auto added = state_->members().find(p.member_id);
      if (added != state_->members().end()) fill_member(out.initMember(), added->second);
      fill_members(out.initMembers(n));
      break;
    }
    case wire::Request::MEMBER_REMOVE:
      fill_members(b.response().initMemberRemove().initMembers(n));
      break;
    default:
      fill_members(b.response().initMemberPromote().initMembers(n));
      break;
  }
  reply(p.connection, b.finish());
}

void NodeLoop::fill_members(capnp::List<wire::Member>::Builder out) const {
  size_t i = 0;
  for (const auto& [id, m] : state_->members()) fill_member(out[i++], m);
}

// etcd's publish: each member puts its own client URL in the replicated
// member table (so `member list` anywhere names every member's URLs, and a
// notLeader hint names the leader), and the entry version its binary
// applies (apply_version.h), retrying until the table shows both.
void NodeLoop::publish_attributes() {
  if (soft_.leader == raft::kNoNode) return;
  auto now = Clock::now();
  if (now < next_publish_) return;
  auto it = state_->members().find(self_id_);
  if (it == state_->members().end()) return;  // joining: not in our table yet
  if (it->second.client_urls == std::vector<std::string>{advertise_client_} &&
      it->second.apply_version == published_apply_version()) {
    return;
  }
  next_publish_ = now + std::chrono::milliseconds(kPublishRetryMs);
  MemberInfo m = it->second;
  m.client_urls = {advertise_client_};
  m.apply_version = published_apply_version();
  std::string record = encode_member(m);
  if (is_leader()) {
    (void)raw_->propose(encode_attributes(record));
    return;
  }
  std::string frame(kAttributesFrameTag);
  frame.append(record);
  (void)transport_->send(soft_.leader, frame);
}

// The leader proposes a member's attributes for it: only the sender's own
// record, only if known and changed (apply takes only its client URLs and
// apply version).
void NodeLoop::propose_attributes(const net::PeerMessage& pm, std::string_view record) {
  if (!is_leader()) return;
  auto m = decode_member(record);
  if (!m.ok() || m->id != pm.from || m->client_urls.empty() ||
      m->client_urls.size() > api::kMaxUrlsPerMember) {
    return;
  }
  auto it = state_->members().find(m->id);
  if (it == state_->members().end() ||
      (it->second.client_urls == m->client_urls && it->second.apply_version == m->apply_version)) {
    return;
  }
  (void)raw_->propose(encode_attributes(record));
}

}  // namespace corral::server
