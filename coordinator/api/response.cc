#include "coordinator/api/response.h"

#include <capnp/serialize.h>

#include "schema/data_bytes.h"
namespace corral::api {

namespace {

using schema::as_data;

void fill_event(wire::Event::Builder out, const kv::Event& ev) {
  out.setType(ev.type == kv::Event::Type::kPut ? wire::Event::Type::PUT
                                                 : wire::Event::Type::DELETE);
  fill_kv(out.initKv(), ev.kv);
  if (ev.prev_kv) {
    out.setHasPrevKv(true);
    fill_kv(out.initPrevKv(), *ev.prev_kv);
  }
}

void fill_response_op(wire::ResponseOp::Builder out, const kv::ResponseOp& op) {
  if (auto* r = std::get_if<kv::RangeResult>(&op)) {
    fill_range(out.initRange(), *r);
  } else if (auto* p = std::get_if<kv::PutResult>(&op)) {
    fill_put(out.initPut(), *p);
  } else if (auto* d = std::get_if<kv::DeleteResult>(&op)) {
    fill_delete(out.initDeleteRange(), *d);
  } else {
    fill_txn(out.initTxn(), *std::get<std::shared_ptr<const kv::TxnResult>>(op));
  }
}

}  // namespace

std::string to_flat_bytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

namespace {
constexpr unsigned kResponseFirstSegmentWords = 32;
}  // namespace

ResponseBuilder::ResponseBuilder(uint64_t request_id, const Header& header)
    : message_(kResponseFirstSegmentWords), response_(message_.initRoot<wire::ServerMessage>().initResponse()) {
  response_.setId(request_id);
  fill_header(response_.initHeader(), header);
}

std::string ResponseBuilder::finish() { return to_flat_bytes(message_); }

std::string encode_error(uint64_t request_id, const Header& header, const WireError& error) {
  ResponseBuilder b(request_id, header);
  fill_error(b.response().initError(), error);
  return b.finish();
}

void fill_header(wire::ResponseHeader::Builder out, const Header& header) {
  out.setClusterId(header.cluster_id);
  out.setMemberId(header.member_id);
  out.setRevision(header.revision);
  out.setRaftTerm(header.raft_term);
}

void fill_kv(wire::KeyValue::Builder out, const kv::KeyValue& kv) {
  out.setKey(as_data(kv.key));
  out.setValue(as_data(kv.value));
  out.setCreateRevision(kv.create_revision);
  out.setModRevision(kv.mod_revision);
  out.setVersion(kv.version);
  out.setLease(kv.lease);
}

void fill_range(wire::RangeResponse::Builder out, const kv::RangeResult& result) {
  auto kvs = out.initKvs(result.kvs.size());
  for (size_t i = 0; i < result.kvs.size(); ++i) fill_kv(kvs[i], result.kvs[i]);
  out.setMore(result.more);
  out.setCount(result.count);
}

void fill_put(wire::PutResponse::Builder out, const kv::PutResult& result) {
  if (result.prev_kv) {
    out.setHasPrevKv(true);
    fill_kv(out.initPrevKv(), *result.prev_kv);
  }
}

void fill_delete(wire::DeleteRangeResponse::Builder out, const kv::DeleteResult& result) {
  out.setDeleted(result.deleted);
  auto prev = out.initPrevKvs(result.prev_kvs.size());
  for (size_t i = 0; i < result.prev_kvs.size(); ++i) fill_kv(prev[i], result.prev_kvs[i]);
}

void fill_txn(wire::TxnResponse::Builder out, const kv::TxnResult& result) {
  out.setSucceeded(result.succeeded);
  auto ops = out.initResponses(result.responses.size());
  for (size_t i = 0; i < result.responses.size(); ++i) fill_response_op(ops[i], result.responses[i]);
}

std::string encode_watch_events(const Header& header, const std::vector<int64_t>& watch_ids,
                                const kv::RevisionEvents& events) {
  capnp::MallocMessageBuilder message;
  auto we = message.initRoot<wire::ServerMessage>().initWatchEvents();
  fill_header(we.initHeader(), header);
  auto ids = we.initWatchIds(watch_ids.size());
  for (size_t i = 0; i < watch_ids.size(); ++i) ids.set(i, watch_ids[i]);
  auto evs = we.initEvents(events.events.size());
  for (size_t i = 0; i < events.events.size(); ++i) fill_event(evs[i], events.events[i]);
  return to_flat_bytes(message);
}

std::string encode_watch_progress(const Header& header, int64_t watch_id) {
  capnp::MallocMessageBuilder message;
  auto wc = message.initRoot<wire::ServerMessage>().initWatchControl();
  wc.setWatchId(watch_id);
  fill_header(wc.initHeader(), header);
  wc.setProgress();
  return to_flat_bytes(message);
}

std::string encode_watch_canceled(const Header& header, int64_t watch_id, const WireError& why) {
  capnp::MallocMessageBuilder message;
  auto wc = message.initRoot<wire::ServerMessage>().initWatchControl();
  wc.setWatchId(watch_id);
  fill_header(wc.initHeader(), header);
  fill_error(wc.initCanceled(), why);
  return to_flat_bytes(message);
}

}  // namespace corral::api
