// The agent fetch protocol (agent/fetch/fetch_codec.h), both ends: a
// source decodes a collector's requests, a collector decodes a source's
// answers. Input: u8 selector (bit 0: request or response) | frame.
// Checks: the canonical encoding is a fixed point of decode . encode, and
// validate() never throws on what decodes.
#include "agent/fetch/fetch_codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;
using namespace corral::agent::fetch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto request = decode_request(bytes);
    if (!request.ok()) return 0;
    if (auto* fetch = std::get_if<FetchRequest>(&*request)) (void)validate(*fetch);
    fuzz::check_round_trip(bytes, decode_request, encode_request);
  } else {
    fuzz::check_round_trip(bytes, decode_response, encode_response);
  }
  return 0;
}
