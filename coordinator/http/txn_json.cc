#include "coordinator/http/txn_json.h"

#include "coordinator/http/kv_json.h"
#include "coordinator/http/route.h"
#include "coordinator/http/value_encoding.h"

namespace corral::http {
namespace {

using nlohmann::json;

// obj[field] as bytes (text, or base64 with field+"Encoding").
std::variant<std::string, HttpError> bytes_field(const json& obj, const std::string& field, bool required,
                                                 const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) {
    if (required) return bad_request(where + ": \"" + field + "\" is missing");
    return std::string{};
  }
  if (!it->is_string()) return bad_request(where + ": \"" + field + "\" must be a string");
  std::string text = it->get<std::string>();
  auto enc = obj.find(field + "Encoding");
  if (enc == obj.end()) return text;
  if (!enc->is_string() || (enc->get<std::string>() != "base64" && enc->get<std::string>() != "text")) {
    return bad_request(where + ": \"" + field + "Encoding\" must be \"base64\" or \"text\"");
  }
  if (enc->get<std::string>() == "text") return text;
  auto decoded = base64_decode(text);
  if (!decoded) return bad_request(where + ": \"" + field + "\" is not base64");
  return std::move(*decoded);
}

bool flag(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::variant<client::TxnOp, HttpError> parse_op(const json& op, const std::string& where) {
  if (!op.is_object() || op.size() != 1) {
    return bad_request(where + " must be an object with one of put, get, delete");
  }
  const std::string kind = op.begin().key();
  const json& body = op.begin().value();
  if (!body.is_object()) return bad_request(where + "." + kind + " must be an object");
  auto key = bytes_field(body, "key", true, where + "." + kind);
  if (auto* e = std::get_if<HttpError>(&key)) return *e;
  std::string k = std::get<std::string>(key);
  if (kind == "put") {
    auto value = bytes_field(body, "value", true, where + ".put");
    if (auto* e = std::get_if<HttpError>(&value)) return *e;
    client::PutRequest put;
    put.key = k;
    put.value = std::get<std::string>(value);
    if (auto it = body.find("lease"); it != body.end()) {
      if (!it->is_string() || !parse_lease_hex(it->get<std::string>(), put.lease)) {
        return bad_request(where + ".put.lease must be a lease id in hex");
      }
    }
    return client::TxnOp{put};
  }
  if (kind == "get") {
    client::RangeRequest get;
    get.key = k;
    if (flag(body, "prefix")) get.range_end = client::prefix_range_end(k);
    return client::TxnOp{get};
  }
  if (kind == "delete") {
    client::DeleteRequest del;
    del.key = k;
    if (flag(body, "prefix")) del.range_end = client::prefix_range_end(k);
    return client::TxnOp{del};
  }
  return bad_request(where + ": unknown operation '" + kind + "' (put, get or delete)");
}

std::variant<client::Compare, HttpError> parse_compare(const json& c, const std::string& where) {
  using client::Compare;
  if (!c.is_object()) return bad_request(where + " must be an object");
  Compare cmp;
  auto key = bytes_field(c, "key", true, where);
  if (auto* e = std::get_if<HttpError>(&key)) return *e;
  cmp.key = std::get<std::string>(key);
  auto target = c.find("target");
  std::string t = target != c.end() && target->is_string() ? target->get<std::string>() : "";
  if (t == "value") cmp.target = Compare::Target::kValue;
  else if (t == "version") cmp.target = Compare::Target::kVersion;
  else if (t == "createRevision") cmp.target = Compare::Target::kCreate;
  else if (t == "modRevision") cmp.target = Compare::Target::kMod;
  else if (t == "lease") cmp.target = Compare::Target::kLease;
  else return bad_request(where + ".target must be value, version, createRevision, modRevision or lease");
  auto result = c.find("result");
  std::string r = result != c.end() && result->is_string() ? result->get<std::string>() : "";
  if (r == "=" || r == "==") cmp.op = Compare::Op::kEqual;
  else if (r == "!=") cmp.op = Compare::Op::kNotEqual;
  else if (r == "<") cmp.op = Compare::Op::kLess;
  else if (r == ">") cmp.op = Compare::Op::kGreater;
  else return bad_request(where + ".result must be =, !=, < or >");
  if (cmp.target == Compare::Target::kValue) {
    auto value = bytes_field(c, "value", true, where);
    if (auto* e = std::get_if<HttpError>(&value)) return *e;
    cmp.value = std::get<std::string>(value);
    return cmp;
  }
  auto value = c.find("value");
  if (value == c.end()) return bad_request(where + ": \"value\" is missing");
  if (cmp.target == Compare::Target::kLease && value->is_string()) {
    if (!parse_lease_hex(value->get<std::string>(), cmp.number)) {
      return bad_request(where + ".value must be a lease id in hex");
    }
    return cmp;
  }
  if (!value->is_number_integer()) return bad_request(where + ".value must be a whole number");
  cmp.number = value->get<int64_t>();
  return cmp;
}

std::optional<HttpError> parse_ops(const json& doc, const char* name, std::vector<client::TxnOp>& out,
                                   size_t& budget) {
  auto it = doc.find(name);
  if (it == doc.end()) return std::nullopt;
  if (!it->is_array()) return bad_request(std::string(name) + " must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    if (budget-- == 0) return bad_request("too many operations in one txn (at most " + std::to_string(kMaxTxnJsonOps) + ")");
    auto op = parse_op((*it)[i], std::string(name) + "[" + std::to_string(i) + "]");
    if (auto* e = std::get_if<HttpError>(&op)) return *e;
    out.push_back(std::move(std::get<client::TxnOp>(op)));
  }
  return std::nullopt;
}

}  // namespace

std::variant<client::TxnRequest, HttpError> parse_txn(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return bad_request("the body is not valid JSON");
  if (!doc.is_object()) return bad_request("the txn must be a JSON object");
  for (auto& [name, v] : doc.items()) {
    if (name != "compare" && name != "success" && name != "failure") {
      return bad_request("unknown txn field '" + name + "' (compare, success, failure)");
    }
  }
  client::TxnRequest txn;
  size_t budget = kMaxTxnJsonOps;
  if (auto it = doc.find("compare"); it != doc.end()) {
    if (!it->is_array()) return bad_request("compare must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      if (budget-- == 0) return bad_request("too many compares in one txn");
      auto cmp = parse_compare((*it)[i], "compare[" + std::to_string(i) + "]");
      if (auto* e = std::get_if<HttpError>(&cmp)) return *e;
      txn.compare.push_back(std::move(std::get<client::Compare>(cmp)));
    }
  }
  if (auto e = parse_ops(doc, "success", txn.success, budget)) return *e;
  if (auto e = parse_ops(doc, "failure", txn.failure, budget)) return *e;
  return txn;
}

nlohmann::json txn_result_json(const client::TxnResult& result) {
  json responses = json::array();
  for (const auto& r : result.responses) {
    if (auto* range = std::get_if<client::RangeResult>(&r.result)) {
      json kvs = json::array();
      for (const auto& kv : range->kvs) kvs.push_back(kv_json(kv));
      responses.push_back({{"get", {{"kvs", kvs}, {"count", range->count}}}});
    } else if (auto* put = std::get_if<client::PutResult>(&r.result)) {
      json p = {{"revision", put->header.revision}};
      if (put->has_prev_kv) p["prevKv"] = kv_json(put->prev_kv);
      responses.push_back({{"put", p}});
    } else if (auto* del = std::get_if<client::DeleteResult>(&r.result)) {
      responses.push_back({{"delete", {{"deleted", del->deleted}}}});
    } else {
      responses.push_back({{"txn", json::object()}});
    }
  }
  return {{"succeeded", result.succeeded}, {"revision", result.header.revision}, {"responses", responses}};
}

}  // namespace corral::http
