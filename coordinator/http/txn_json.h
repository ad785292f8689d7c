// POST /v1/txn: the JSON document and the client library's txn, both ways.
//   {"compare":[{"key":"/a","target":"value|version|createRevision|modRevision|lease",
//                "result":"=|!=|<|>","value":"V" or N}],
//    "success":[{"put":{"key":..,"value":..,"lease":"<hex>"}},{"get":{"key":..,"prefix":true}},
//               {"delete":{"key":..,"prefix":true}}],
//    "failure":[...]}
// Keys and values may come as base64 with "keyEncoding"/"valueEncoding":"base64".
#pragma once

#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "client/types.h"
#include "coordinator/http/http_error.h"

namespace corral::http {

// Ops summed over success and failure, and compares; past them: badRequest
// (the member bounds them too, this keeps a huge body from being built).
inline constexpr size_t kMaxTxnJsonOps = 1024;

std::variant<client::TxnRequest, HttpError> parse_txn(std::string_view body);

// {"succeeded":true,"revision":R,"responses":[{"get":{"kvs":[..],"count":N}},
//  {"put":{"revision":R}},{"delete":{"deleted":N}}]}
nlohmann::json txn_result_json(const client::TxnResult& result);

}  // namespace corral::http
