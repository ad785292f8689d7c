// etcdctl's txn text, read by `corralctl txn` (from stdin, or line by line
// with -i):
//
//   compares, one a line        mod("key1") > "0"     (c|create, m|mod,
//   a blank line                                       val|value, ver|version,
//   success ops, one a line     put key1 "v1"          lease; <, =, >, !=)
//   a blank line
//   failure ops, one a line     get key1
//   (a blank line, or the end)
//
// Ops: put KEY VALUE [--lease=ID], get KEY [--prefix] [--limit=N]
// [--rev=N] [--keys-only] [--count-only], del KEY [--prefix] [--prev-kv].
// Keys and values are bare words, "Go-quoted" (\" \\ \n \t \r \xHH) or
// 'single-quoted'. Revisions and versions are decimal; lease ids are
// hexadecimal, as everywhere in corralctl. A malformed line is a kBadRequest
// naming the line and what is wrong; nothing is sent then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/error.h"
#include "client/types.h"

namespace corral::cli {

// Lines longer than this are refused (a value that large belongs in a file:
// `put KEY --from-file`).
inline constexpr size_t kMaxTxnLineBytes = 1u << 20;

// Words of one line, quotes removed. kBadRequest on an unclosed quote or a
// bad escape.
client::Result<std::vector<std::string>> split_words(std::string_view line);

// A hexadecimal id, with or without 0x: what corralctl takes for leases and members.
std::optional<uint64_t> parse_hex_id(std::string_view text);

client::Result<client::Compare> parse_compare(std::string_view line);
client::Result<client::TxnOp> parse_txn_op(std::string_view line);

class TxnTextParser {
 public:
  enum class Section { kCompares, kSuccess, kFailure, kDone };

  // One line without its newline. Errors name the line by its number.
  client::Status feed(std::string_view line);
  Section section() const { return section_; }
  // The txn read so far (call once the input has ended or section() is kDone).
  client::TxnRequest take() { return std::move(txn_); }

 private:
  Section section_ = Section::kCompares;
  int line_number_ = 0;
  client::TxnRequest txn_;
};

// The whole text at once.
client::Result<client::TxnRequest> parse_txn_text(std::string_view text);

}  // namespace corral::cli
