#include "coordinator/http/key_params.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "coordinator/http/route.h"
#include "coordinator/http/value_encoding.h"

namespace corral::http {
namespace {

bool starts_with_type(std::string_view content_type, std::string_view type) {
  if (content_type.size() < type.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(content_type[i])) != type[i]) return false;
  }
  return content_type.size() == type.size() || content_type[type.size()] == ';' ||
         content_type[type.size()] == ' ';
}

std::optional<HttpError> read_bool(const Params& p, const std::string& name, bool& out) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  auto v = parse_bool(it->second);
  if (!v) return bad_request(name + " must be true or false, not '" + it->second + "'");
  out = *v;
  return std::nullopt;
}

std::optional<HttpError> read_int(const Params& p, const std::string& name, int64_t min, int64_t max,
                                  int64_t& out) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  auto v = parse_int(it->second);
  if (!v || *v < min || *v > max) {
    return bad_request(name + " must be a whole number in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], not '" + it->second + "'");
  }
  out = *v;
  return std::nullopt;
}

// value and prevValue, decoded when valueEncoding=base64.
std::optional<HttpError> read_value(const Params& p, const std::string& name, std::optional<std::string>& out) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  auto enc = p.find("valueEncoding");
  if (enc == p.end() || enc->second.empty() || enc->second == "text") {
    out = it->second;
    return std::nullopt;
  }
  if (enc->second != "base64") return bad_request("valueEncoding must be text or base64, not '" + enc->second + "'");
  auto decoded = base64_decode(it->second);
  if (!decoded) return bad_request(name + " is not base64");
  out = std::move(*decoded);
  return std::nullopt;
}

std::optional<HttpError> read_conditions(const Params& p, Conditions& c) {
  if (p.count("prevExist")) {
    bool v = false;
    if (auto e = read_bool(p, "prevExist", v)) return e;
    c.prev_exist = v;
  }
  if (auto e = read_value(p, "prevValue", c.prev_value)) return e;
  if (p.count("prevRevision")) {
    int64_t r = 0;
    if (auto e = read_int(p, "prevRevision", 0, INT64_MAX, r)) return e;
    c.prev_revision = r;
  }
  if (c.prev_exist == false && (c.prev_value || c.prev_revision)) {
    return bad_request("prevExist=false cannot be combined with prevValue or prevRevision");
  }
  return std::nullopt;
}

void add_compares(const std::string& key, const Conditions& c, std::vector<client::Compare>& out) {
  using client::Compare;
  if (c.prev_exist) {
    Compare cmp;
    cmp.key = key;
    cmp.target = Compare::Target::kVersion;
    cmp.op = *c.prev_exist ? Compare::Op::kGreater : Compare::Op::kEqual;
    cmp.number = 0;
    out.push_back(cmp);
  }
  if (c.prev_value) {
    // A value compare on a missing key fails, as prevValue should.
    Compare cmp;
    cmp.key = key;
    cmp.target = Compare::Target::kValue;
    cmp.op = Compare::Op::kEqual;
    cmp.value = *c.prev_value;
    out.push_back(cmp);
    if (!c.prev_exist) {
      Compare exists{Compare::Target::kVersion, Compare::Op::kGreater, key, {}, 0, {}};
      out.push_back(exists);
    }
  }
  if (c.prev_revision) {
    Compare cmp;
    cmp.key = key;
    cmp.target = Compare::Target::kMod;
    cmp.op = Compare::Op::kEqual;
    cmp.number = *c.prev_revision;
    out.push_back(cmp);
  }
}

client::TxnOp get_op(const std::string& key) {
  client::RangeRequest r;
  r.key = key;
  return client::TxnOp{r};
}

}  // namespace

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::variant<Params, HttpError> request_params(std::string_view query, std::string_view content_type,
                                               std::string_view body) {
  auto params = parse_params(query);
  if (!params) return bad_request("the query string is not percent-encoded correctly");
  if (body.empty()) return std::move(*params);
  if (starts_with_type(content_type, "application/json")) {
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded()) return bad_request("the body is not valid JSON");
    if (!doc.is_object()) return bad_request("the JSON body must be an object");
    for (auto& [name, v] : doc.items()) {
      if (v.is_string()) {
        (*params)[name] = v.get<std::string>();
      } else if (v.is_boolean()) {
        (*params)[name] = v.get<bool>() ? "true" : "false";
      } else if (v.is_number_integer()) {
        (*params)[name] = std::to_string(v.get<int64_t>());
      } else {
        return bad_request("JSON field '" + name + "' must be a string, a whole number or a boolean");
      }
    }
    return std::move(*params);
  }
  if (content_type.empty() || starts_with_type(content_type, "application/x-www-form-urlencoded")) {
    auto form = parse_params(body);
    if (!form) return bad_request("the form body is not percent-encoded correctly");
    for (auto& [name, value] : *form) (*params)[name] = std::move(value);
    return std::move(*params);
  }
  return HttpError{415, "unsupportedMediaType",
                   "the body must be application/x-www-form-urlencoded or application/json, not " +
                       std::string(content_type)};
}

std::variant<PutPlan, HttpError> put_plan(std::string key, const Params& p) {
  PutPlan plan;
  plan.key = std::move(key);
  if (plan.key == "/") return bad_request("cannot put a value on the root");
  std::optional<std::string> value;
  if (auto e = read_value(p, "value", value)) return *e;
  if (!value) return bad_request("value is missing (-d value=V or {\"value\":\"V\"})");
  plan.value = std::move(*value);
  if (auto e = read_int(p, "ttl", 1, kMaxTtlSeconds, plan.ttl)) return *e;
  if (auto it = p.find("lease"); it != p.end()) {
    if (!parse_lease_hex(it->second, plan.lease) || plan.lease == 0) {
      return bad_request("lease must be a lease id in hex, not '" + it->second + "'");
    }
  }
  if (plan.ttl > 0 && plan.lease != 0) return bad_request("give ttl or lease, not both");
  if (auto e = read_conditions(p, plan.conditions)) return *e;
  return plan;
}

std::variant<DeletePlan, HttpError> delete_plan(std::string key, const Params& p) {
  DeletePlan plan;
  plan.key = std::move(key);
  if (auto e = read_bool(p, "recursive", plan.recursive)) return *e;
  if (plan.key == "/" && !plan.recursive) return bad_request("deleting the root needs recursive=true");
  if (auto e = read_conditions(p, plan.conditions)) return *e;
  if (plan.conditions.prev_exist == false) return bad_request("prevExist=false makes no sense on a delete");
  return plan;
}

std::variant<GetPlan, HttpError> get_plan(std::string key, const Params& p) {
  GetPlan plan;
  plan.key = std::move(key);
  if (auto e = read_bool(p, "recursive", plan.recursive)) return *e;
  if (auto e = read_int(p, "revision", 0, INT64_MAX, plan.revision)) return *e;
  if (auto e = read_bool(p, "wait", plan.wait)) return *e;
  if (auto e = read_int(p, "waitRevision", 0, INT64_MAX, plan.wait_revision)) return *e;
  if (auto e = read_int(p, "timeout", 1, kMaxWaitSeconds, plan.timeout_seconds)) return *e;
  return plan;
}

std::variant<WatchPlan, HttpError> watch_plan(std::string key, const Params& p) {
  WatchPlan plan;
  plan.key = std::move(key);
  if (auto e = read_bool(p, "recursive", plan.recursive)) return *e;
  if (auto e = read_int(p, "revision", 0, INT64_MAX, plan.revision)) return *e;
  if (auto e = read_bool(p, "prevKv", plan.prev_kv)) return *e;
  return plan;
}

std::string dir_prefix(const std::string& key) {
  if (!key.empty() && key.back() == '/') return key;
  return key + "/";
}

client::TxnRequest put_txn(const PutPlan& plan, int64_t lease) {
  client::TxnRequest txn;
  add_compares(plan.key, plan.conditions, txn.compare);
  client::PutRequest put;
  put.key = plan.key;
  put.value = plan.value;
  put.lease = lease;
  put.prev_kv = true;
  txn.success.push_back(client::TxnOp{put});
  txn.failure.push_back(get_op(plan.key));
  return txn;
}

client::TxnRequest delete_txn(const DeletePlan& plan) {
  client::TxnRequest txn;
  add_compares(plan.key, plan.conditions, txn.compare);
  if (plan.key != "/") {
    client::DeleteRequest one;
    one.key = plan.key;
    txn.success.push_back(client::TxnOp{one});
  }
  if (plan.recursive) {
    client::DeleteRequest below;
    below.key = dir_prefix(plan.key);
    below.range_end = client::prefix_range_end(below.key);
    txn.success.push_back(client::TxnOp{below});
  }
  txn.failure.push_back(get_op(plan.key));
  return txn;
}

}  // namespace corral::http
