// Encoding and decoding the fetch protocol's messages (schema/agent.capnp):
// one flat, unpacked Cap'n Proto message per ZeroMQ frame. Pure functions: no
// sockets, no state. Decoding never throws: garbage is a typed error.
#pragma once

#include <string>
#include <string_view>

#include "agent/fetch/fetch_error.h"
#include "agent/fetch/fetch_types.h"

namespace corral::agent::fetch {

std::string encode_request(const AgentRequest& request);
std::string encode_response(const AgentResponse& response);

// kTooLarge above kMaxRequestBytes; kBadRequest for bytes that are not an
// AgentRequest. Field values are not checked here: see validate().
Result<AgentRequest> decode_request(std::string_view bytes);
// kBadResponse for bytes that are not an AgentResponse (or above
// kMaxResponseBytes).
Result<AgentResponse> decode_response(std::string_view bytes);

// The request's fields within the protocol's bounds: kBadRequest naming the
// field otherwise (id 0, empty or long stream, long file ids, maxBytes 0).
Status validate(const FetchRequest& request);

// An answer carrying only an error, with the request's id.
FetchReply error_reply(uint64_t id, FetchErrorCode code, std::string message);

}  // namespace corral::agent::fetch
