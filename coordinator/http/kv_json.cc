#include "coordinator/http/kv_json.h"

#include "coordinator/http/route.h"
#include "coordinator/http/value_encoding.h"

namespace corral::http {

void set_bytes(nlohmann::json& obj, const std::string& field, const std::string& bytes) {
  if (is_utf8(bytes)) {
    obj[field] = bytes;
  } else {
    obj[field] = base64_encode(bytes);
    obj[field + "Encoding"] = "base64";
  }
}

nlohmann::json kv_json(const client::KeyValue& kv) {
  nlohmann::json out = nlohmann::json::object();
  set_bytes(out, "key", kv.key);
  set_bytes(out, "value", kv.value);
  out["createRevision"] = kv.create_revision;
  out["modRevision"] = kv.mod_revision;
  out["version"] = kv.version;
  if (kv.lease != 0) out["lease"] = lease_hex(kv.lease);
  return out;
}

nlohmann::json event_json(const client::WatchEvent& event) {
  nlohmann::json out = kv_json(event.kv);
  out["type"] = event.type == client::WatchEvent::Type::kPut ? "PUT" : "DELETE";
  if (event.type == client::WatchEvent::Type::kDelete) {
    out.erase("value");
    out.erase("valueEncoding");
  }
  if (event.has_prev_kv) out["prevKv"] = kv_json(event.prev_kv);
  return out;
}

std::string dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace corral::http
