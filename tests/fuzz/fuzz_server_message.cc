// What a client (the library under corralctl, the agent and corral-bench)
// decodes from a member: client::decode_server_message. Garbage must give
// kBadResponse, never a throw or a crash; a response that decodes is
// checked against every request kind (response_matches) as the client does.
#include "client/codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = client::decode_server_message(fuzz::as_view(data, size));
  if (!message.ok()) {
    FUZZ_CHECK(message.error().code == client::ErrorCode::kBadResponse);
    return 0;
  }
  if (auto* response = std::get_if<client::ResponseMessage>(&*message)) {
    (void)client::response_matches(client::RequestBody{client::PutRequest{}}, response->body);
    (void)client::response_matches(client::RequestBody{client::TxnRequest{}}, response->body);
  }
  return 0;
}
