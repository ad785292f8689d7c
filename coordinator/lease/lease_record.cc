#include "coordinator/lease/lease_record.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "schema/aligned_words.h"
#include "schema/records.capnp.h"

namespace corral::lease {
namespace {

// Root pointer + a two-word data section: the whole record, so the builder
// allocates no more than it writes.
constexpr unsigned kLeaseRecordWords = 1 + 2;

void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t get_be64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

std::string encode_lease_key(LeaseId id) {
  std::string out;
  out.reserve(kLeaseKeyBytes);
  put_be64(out, static_cast<uint64_t>(id));
  return out;
}

std::string encode_lease_value(const LeaseRecord& record) {
  capnp::MallocMessageBuilder message(kLeaseRecordWords);
  auto root = message.initRoot<schema::records::LeaseRecord>();
  root.setTtlSeconds(record.ttl_seconds);
  root.setRemainingMs(record.remaining_ms);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<LeaseRecord> decode_lease_record(std::string_view key, std::string_view value) {
  if (key.size() != kLeaseKeyBytes) {
    return make_error(ErrorCode::kStorage, "lease record key is not 8 bytes");
  }
  auto words = schema::aligned_words(value);
  if (!words) return make_error(ErrorCode::kStorage, "lease record value has a bad length");
  LeaseRecord record;
  record.id = static_cast<LeaseId>(get_be64(key));
  try {
    capnp::FlatArrayMessageReader reader(*words);
    auto root = reader.getRoot<schema::records::LeaseRecord>();
    record.ttl_seconds = root.getTtlSeconds();
    record.remaining_ms = root.getRemainingMs();
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kStorage,
                      std::string("lease record value does not decode: ") + e.getDescription().cStr());
  }
  if (record.id <= 0 || record.ttl_seconds <= 0 || record.ttl_seconds > kMaxTtlSeconds ||
      record.remaining_ms < 0 || record.remaining_ms > kMaxRemainingMs) {
    return make_error(ErrorCode::kStorage, "lease record out of range: id " +
                                               std::to_string(record.id) + " ttl " +
                                               std::to_string(record.ttl_seconds) + " remaining ms " +
                                               std::to_string(record.remaining_ms));
  }
  return record;
}

}  // namespace corral::lease
