// Encoding of everything a member sends to a client connection
// (schema/api.capnp ServerMessage): responses, watch events, watch control.
// Each message is built once and serialised flat (one ZeroMQ frame).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <capnp/message.h>

#include "coordinator/api/errors.h"
#include "coordinator/kv/key_index.h"
#include "coordinator/kv/key_value.h"
#include "coordinator/kv/requests.h"

namespace corral::api {

struct Header {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  kv::Revision revision = 0;
  uint64_t raft_term = 0;
};

// One ServerMessage.response under construction. Its first segment is
// small: Cap'n Proto's default (8 KiB, zeroed) cost more than the encoding
// of most answers (a put's is ~100 bytes); a larger answer grows into more
// segments.
class ResponseBuilder {
 public:
  ResponseBuilder(uint64_t request_id, const Header& header);
  wire::Response::Builder response() { return response_; }
  // The flat bytes of the whole ServerMessage.
  std::string finish();

 private:
  capnp::MallocMessageBuilder message_;
  wire::Response::Builder response_;
};

std::string encode_error(uint64_t request_id, const Header& header, const WireError& error);

void fill_header(wire::ResponseHeader::Builder out, const Header& header);
void fill_kv(wire::KeyValue::Builder out, const kv::KeyValue& kv);
void fill_range(wire::RangeResponse::Builder out, const kv::RangeResult& result);
void fill_put(wire::PutResponse::Builder out, const kv::PutResult& result);
void fill_delete(wire::DeleteRangeResponse::Builder out, const kv::DeleteResult& result);
void fill_txn(wire::TxnResponse::Builder out, const kv::TxnResult& result);

// One revision's events for the listed watch ids of one connection.
std::string encode_watch_events(const Header& header, const std::vector<int64_t>& watch_ids,
                                const kv::RevisionEvents& events);
std::string encode_watch_progress(const Header& header, int64_t watch_id);
std::string encode_watch_canceled(const Header& header, int64_t watch_id, const WireError& why);

std::string to_flat_bytes(capnp::MessageBuilder& message);

}  // namespace corral::api
