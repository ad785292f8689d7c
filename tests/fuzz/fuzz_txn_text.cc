// corralctl txn's text (cli/txn_text.h), as `corralctl txn` reads stdin: the
// whole text at once, and line by line as `txn -i` feeds it. Checks: both
// ways agree; every word split_words returns, quoted again, splits back to
// itself; a hex id prints back to itself; and a txn that parses encodes to
// a request (client codec) that a member's decoder accepts, as it will be
// sent.
#include <cinttypes>
#include <cstdio>

#include "client/codec.h"
#include "cli/txn_text.h"
#include "coordinator/api/request.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

std::string go_quoted(const std::string& word) {
  std::string out = "\"";
  for (unsigned char c : word) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void check_words(std::string_view line) {
  auto words = cli::split_words(line);
  if (!words.ok()) return;
  std::string again;
  for (const auto& w : *words) again += go_quoted(w) + " ";
  auto back = cli::split_words(again);
  FUZZ_CHECK(back.ok() && *back == *words);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::as_view(data, size);
  auto whole = cli::parse_txn_text(text);

  cli::TxnTextParser parser;
  bool fed_ok = true;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    check_words(line);
    if (auto id = cli::parse_hex_id(line)) {
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%" PRIx64, *id);
      FUZZ_CHECK(cli::parse_hex_id(hex) == id);
    }
    if (!parser.feed(line).ok()) {
      fed_ok = false;
      break;
    }
    start = end + 1;
  }
  FUZZ_CHECK(fed_ok == whole.ok());
  if (!whole.ok()) return 0;

  auto bytes = client::encode_request(42, client::RequestBody{*whole});
  if (!bytes.ok()) return 0;  // past the client's own bounds (depth): refused before sending
  auto parsed = api::parse_request(*bytes, api::kDefaultMaxRequestBytes);
  FUZZ_CHECK(parsed.ok() || parsed.error.code == api::wire::ErrorCode::TOO_LARGE);
  return 0;
}
