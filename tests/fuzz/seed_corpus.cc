// Writes the seed corpora of the fuzz targets from valid encodings made by
// the real encoders: `fuzz_seed_corpus tests/fuzz/corpus` (run by hand when a
// format changes; the files are kept in the repository). Each target's
// input layout (selector bytes) is described at the top of its file.
#include <capnp/message.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/fetch/fetch_codec.h"
#include "client/codec.h"
#include "coordinator/api/response.h"
#include "coordinator/kv/record_codec.h"
#include "coordinator/kv/revision_key.h"
#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/lease/lease_record.h"
#include "coordinator/net/chunker.h"
#include "coordinator/net/tcp_peer_transport.h"
#include "coordinator/net/zmq_peer_transport.h"
#include "coordinator/server/cluster_id_gate.h"
#include "coordinator/server/command.h"
#include "coordinator/server/members.h"
#include "coordinator/server/snapshot_sender.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_records.h"
#include "schema/data_bytes.h"

using namespace corral;
namespace wire = corral::schema::api;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::vector<std::string>> corpora;

void seed(const std::string& target, std::string bytes) { corpora[target].push_back(std::move(bytes)); }
std::string with(char selector, const std::string& bytes) { return std::string(1, selector) + bytes; }

std::string request(uint64_t id, const std::function<void(wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<wire::Request>();
  r.setId(id);
  fill(r);
  return api::to_flat_bytes(m);
}

std::vector<std::string> requests() {
  using schema::as_data;
  std::vector<std::string> out;
  out.push_back(request(1, [](auto r) { r.initPut().setKey(as_data("/apps/web/a")); r.getPut().setValue(as_data("v")); }));
  out.push_back(request(2, [](auto r) {
    auto g = r.initRange();
    g.setKey(as_data("/apps/"));
    g.setRangeEnd(as_data("/apps0"));
    g.setLimit(10);
  }));
  out.push_back(request(3, [](auto r) { r.initDeleteRange().setKey(as_data("/k")); }));
  out.push_back(request(4, [](auto r) {
    auto txn = r.initTxn();
    auto c = txn.initCompare(2);
    c[0].setTarget(wire::Compare::Target::VALUE);
    c[0].setKey(as_data("/a"));
    c[0].setValue(as_data("1"));
    c[1].setTarget(wire::Compare::Target::MOD);
    c[1].setKey(as_data("/b"));
    c[1].setModRevision(3);
    auto s = txn.initSuccess(3);
    s[0].initPut().setKey(as_data("/a"));
    s[1].initDeleteRange().setKey(as_data("/a"));  // the same key twice: refused before proposing
    auto inner = s[2].initTxn();
    inner.initSuccess(1)[0].initRange().setKey(as_data("/c"));
    txn.initFailure(1)[0].initRange().setKey(as_data("/a"));
  }));
  out.push_back(request(5, [](auto r) { r.initLeaseGrant().setTtl(5); }));
  out.push_back(request(6, [](auto r) { r.initLeaseKeepAlive().setId(7); }));
  out.push_back(request(7, [](auto r) { r.initLeaseRevoke().setId(7); }));
  out.push_back(request(8, [](auto r) { r.initLeaseTimeToLive().setId(7); }));
  out.push_back(request(9, [](auto r) {
    auto w = r.initWatchCreate();
    w.setKey(as_data("/apps/"));
    w.setRangeEnd(as_data("/apps0"));
    w.setStartRevision(2);
  }));
  out.push_back(request(10, [](auto r) { r.initWatchCancel(); }));
  out.push_back(request(11, [](auto r) { r.initCompaction().setRevision(3); }));
  out.push_back(request(12, [](auto r) { r.initMemberList(); }));
  out.push_back(request(13, [](auto r) { r.initStatus(); }));
  return out;
}

raft::Entry command_entry(uint64_t index, const std::vector<std::string>& reqs) {
  server::CommandWriter w(1);
  uint64_t id = 1;
  for (const auto& r : reqs) w.add(id++, r);
  return raft::Entry{1, index, raft::EntryType::kNormal, w.take()};
}

server::MemberInfo member() {
  server::MemberInfo m;
  m.id = 0x1234;
  m.name = "n1";
  m.peer_urls = {"tcp://127.0.0.1:2380"};
  m.client_urls = {"tcp://127.0.0.1:2379"};
  return m;
}

raft::Message append_message() {
  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.log_term = 3;
  m.index = 4;
  m.commit = 4;
  m.entries.push_back(command_entry(5, {requests()[0]}));
  return m;
}

// The image of a state machine that applied a few commands.
std::string small_image() {
  storage::EngineOptions eo;
  eo.in_memory = true;
  eo.path = "/seed-image";
  auto engine = std::move(storage::Engine::open(eo)).value();
  server::StateMachineOptions so;
  so.self_id = 1;
  auto sm = std::move(server::StateMachine::open(*engine, so)).value();
  storage::WriteBatch batch;
  server::ApplyOutput out;
  sm->stage_initial_members({member()}, batch);
  auto reqs = requests();
  sm->apply_entry(command_entry(1, {reqs[0], reqs[4]}), batch, out);
  sm->apply_entry(command_entry(2, {reqs[3]}), batch, out);
  (void)engine->write(std::move(batch), false);
  sm->batch_written();
  return sm->image().value();
}

std::string snapshot_stream() {
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = 2;
  m.snapshot = raft::Snapshot{{9, 2, {{1, 2}, {}}}, ""};
  return small_image() + server::encode_snapshot_trailer(m);
}

std::string u16le(size_t n) { return std::string{static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff)}; }

void make_seeds() {
  for (const auto& r : requests()) seed("fuzz_client_request", r);

  // Peer frames: u8 routing-id length | routing id | frame.
  const std::string rid = net::peer_routing_id(1, 0xc1);
  auto frame = [&](const std::string& body) { return std::string(1, static_cast<char>(rid.size())) + rid + body; };
  seed("fuzz_peer_frame", frame(storage::encode_message(append_message())));
  raft::Message vote;
  vote.type = raft::MessageType::kRequestVote;
  vote.from = 1;
  vote.to = 2;
  vote.term = 4;
  seed("fuzz_peer_frame", frame(storage::encode_message(vote)));
  seed("fuzz_peer_frame", frame(server::cluster_mismatch_notice({0xa, 0xb})));
  seed("fuzz_peer_frame", frame(net::tcp_peer_hello(3, 0xc1)));
  seed("fuzz_peer_frame", frame(std::string("\xfe\xff\xff\xff", 4) + server::encode_member(member())));
  const std::string stream = snapshot_stream();
  auto chunks = net::split_into_chunks(9, stream, 48).value();
  seed("fuzz_peer_frame", frame(std::string(server::kSnapshotChunkFrameTag) + net::encode_chunk(chunks[0])));

  // Raft records: u8 selector | record.
  const raft::Entry entry = command_entry(5, {requests()[0], requests()[3]});
  seed("fuzz_raft_records", with(0, storage::encode_entry(entry)));
  seed("fuzz_raft_records", with(0, storage::encode_entry(raft::Entry{2, 6, raft::EntryType::kConfChange,
      raft::encode_conf_change({raft::ConfChangeType::kAddNode, 3,
                                server::encode_conf_context({1, 2, server::encode_member(member())})})})));
  seed("fuzz_raft_records", with(1, storage::encode_hard_state(raft::HardState{3, 2, 7})));
  seed("fuzz_raft_records", with(2, storage::encode_conf_state({{1, 2, 3}, {4}})));
  seed("fuzz_raft_records", with(3, storage::encode_snapshot_metadata({9, 2, {{1, 2}, {3}}})));
  seed("fuzz_raft_records", with(4, storage::encode_snapshot(raft::Snapshot{{9, 2, {{1}, {}}}, "image"})));
  seed("fuzz_raft_records", with(5, storage::encode_conf_change_record({raft::ConfChangeType::kRemoveNode, 2, "x"})));
  seed("fuzz_raft_records", with(6, storage::encode_log_mark({5, 2})));
  seed("fuzz_raft_records", with(7, storage::encode_message(append_message())));
  seed("fuzz_raft_records", with(8, entry.data));
  seed("fuzz_raft_records", with(8, lease::encode_checkpoint_entry(1, {3, {{7, 1500}, {8, 0}}})));
  seed("fuzz_raft_records", with(8, server::encode_attributes(server::encode_member(member()))));

  // Stored kv, lease, member and identity records: u8 selector | record.
  seed("fuzz_kv_records", with(0, kv::revision_key({5, 1}, false)));
  seed("fuzz_kv_records", with(0, kv::revision_key({6, 0}, true)));
  seed("fuzz_kv_records", with(1, kv::encode_key_value({"/k", "v", 2, 5, 3, 7})));
  seed("fuzz_kv_records", with(2, kv::encode_kv_state({10, 5, 2})));
  const std::string lease_key = lease::encode_lease_key(7);
  seed("fuzz_kv_records", with(3, std::string(1, static_cast<char>(lease_key.size())) + lease_key +
                                      lease::encode_lease_value({7, 10, 2500})));
  seed("fuzz_kv_records", with(4, server::encode_member(member())));
  server::MemberInfo identity;
  identity.id = 0x1234;
  identity.name = "n1";
  seed("fuzz_kv_records", with(5, server::encode_member(identity)));

  // Snapshot streams: u8 selector (bit 0) | stream, or chunk frames.
  seed("fuzz_snapshot_chunks", with(0, stream));
  std::string frames;
  const auto stream_chunks = net::split_into_chunks(9, stream, 512).value();
  for (const auto& c : stream_chunks) {
    const std::string f = net::encode_chunk(c);
    frames += std::string(1, '\0') + u16le(f.size()) + f;
  }
  seed("fuzz_snapshot_chunks", with(1, frames));

  // Agent fetch: u8 selector (bit 0: response) | frame.
  using namespace agent::fetch;
  FetchRequest fetch{7, "web/access", "f1", 100, "f0", 50, 4096};
  seed("fuzz_agent_fetch", with(0, encode_request(fetch)));
  seed("fuzz_agent_fetch", with(0, encode_request(StreamsRequest{8})));
  FetchReply reply;
  reply.id = 7;
  reply.file = "f1";
  reply.offset = 100;
  reply.data = "line one\nline two\n";
  reply.next_file = "f1";
  reply.next_offset = 118;
  seed("fuzz_agent_fetch", with(1, encode_response(reply)));
  seed("fuzz_agent_fetch", with(1, encode_response(error_reply(9, FetchErrorCode::kUnknownFile, "gone"))));
  StreamsReply streams{8, {{"web/access", {"/var/log/a.log", "/var/log/a.log.1"}, 2, 4096}}};
  seed("fuzz_agent_fetch", with(1, encode_response(streams)));

  seed("fuzz_config_file",
       "# corrald\n[default]\nname = n1\ndata-dir = \"/var/lib/corrald\"  # the data\n"
       "initial-cluster = n1=tcp://127.0.0.1:2380,n2=tcp://127.0.0.1:2381\nheartbeat-interval = 100\n");
  seed("fuzz_config_file", "; x\nlisten-client = tcp://0.0.0.0:2379\nlog-level = \"debug\"\n");

  seed("fuzz_txn_text", "mod(\"key1\") > \"0\"\nval(\"/k\") = \"1\"\n\nput key1 \"v1\"\nput /k 2 --lease=1f\n\nget key1 --prefix --limit=3\n");
  seed("fuzz_txn_text", "create(\"a\") = \"0\"\n\ndel /a --prefix --prev-kv\n\nget '/b' --rev=4 --keys-only\n");
  seed("fuzz_txn_text", "\nput \"\\x41\\n\\t\" 'x y'\n");

  api::Header header{1, 2, 5, 3};
  seed("fuzz_server_message", api::encode_error(3, header, api::WireError{wire::ErrorCode::NOT_LEADER, "no", "tcp://1.2.3.4:2379", 0}));
  seed("fuzz_server_message", api::encode_watch_progress(header, 4));
  seed("fuzz_server_message", api::encode_watch_canceled(header, 4, api::WireError{wire::ErrorCode::COMPACTED, "c", "", 3}));
  kv::RevisionEvents events;
  events.revision = 5;
  seed("fuzz_server_message", api::encode_watch_events(header, {4, 5}, events));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus DIR\n");
    return 2;
  }
  make_seeds();
  for (const auto& [target, seeds] : corpora) {
    const fs::path dir = fs::path(argv[1]) / target;
    fs::create_directories(dir);
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%02zu", i);
      std::ofstream(dir / name, std::ios::binary) << seeds[i];
    }
    std::printf("%s: %zu seeds\n", target.c_str(), seeds.size());
  }
  return 0;
}
