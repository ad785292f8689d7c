// The JSON forms of keys, values and events:
//   {"key":"/a","value":"V","createRevision":1,"modRevision":2,"version":1,"lease":"<hex>"}
// with "lease" absent when there is none, and "keyEncoding"/"valueEncoding":
// "base64" when the bytes are not UTF-8.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "client/types.h"

namespace corral::http {

// Sets obj[field] to the bytes, as text or base64 (then obj[field+"Encoding"]).
void set_bytes(nlohmann::json& obj, const std::string& field, const std::string& bytes);
nlohmann::json kv_json(const client::KeyValue& kv);
// {"type":"PUT"|"DELETE","key":..,"value":..,"modRevision":..,...,"prevKv":{...}}
nlohmann::json event_json(const client::WatchEvent& event);
// Dumps with invalid UTF-8 replaced (set_bytes keeps it out; this is the last guard).
std::string dump(const nlohmann::json& doc);

}  // namespace corral::http
