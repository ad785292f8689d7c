// Encoding requests and decoding what a member sends, between the client's
// plain values (types.h) and api.capnp's wire form: one flat (unpacked) Cap'n
// Proto message per ZeroMQ frame. Pure functions: no sockets, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client/error.h"
#include "client/types.h"

namespace corral::client {

// Replies larger than this are refused by the decoder (a snapshot chunk is
// far below it); bounds the work done on a garbage frame.
inline constexpr size_t kMaxServerMessageBytes = 512u << 20;
// Nested txn depth the encoder accepts; deeper is kBadRequest before sending.
inline constexpr int kMaxTxnDepth = 8;

// The request `body` with request id `id`, ready to send. kBadRequest if the
// body cannot be expressed (e.g. txn nested deeper than kMaxTxnDepth).
Result<std::string> encode_request(uint64_t id, const RequestBody& body);
// The same, run as the user of `token` (AuthRequest kAuthenticate's answer);
// an empty token sends none.
Result<std::string> encode_request(uint64_t id, const RequestBody& body, std::string_view token);

struct ResponseMessage {
  uint64_t id = 0;
  Header header;
  // Either a wire error (code != kOk) or a body.
  Error error{ErrorCode::kOk, {}, {}, 0};
  ResponseBody body;
  bool is_error() const { return error.code != ErrorCode::kOk; }
};

struct WatchEventsMessage {
  Header header;
  std::vector<int64_t> watch_ids;
  std::vector<WatchEvent> events;
};

struct WatchControlMessage {
  int64_t watch_id = 0;
  Header header;
  bool canceled = false;  // false: a progress notification
  Error cancel_reason{ErrorCode::kOk, {}, {}, 0};
};

using ServerMessage = std::variant<ResponseMessage, WatchEventsMessage, WatchControlMessage>;

// kBadResponse if `bytes` is not a ServerMessage we understand.
Result<ServerMessage> decode_server_message(std::string_view bytes);

// Maps a wire api::ErrorCode ordinal to ours; unknown ordinals (a newer
// member) become kUnknownRequest's neighbour kInternal with the number kept
// in the message by the caller.
ErrorCode error_code_from_wire(uint16_t wire);

// Whether `body` is the response kind for `request` (a member answering a
// put with a range is a protocol error, reported as kBadResponse).
bool response_matches(const RequestBody& request, const ResponseBody& body);

}  // namespace corral::client
