#include "coordinator/lease/lease_record.h"

namespace corral::lease {
namespace {

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
  std::string out;
  out.reserve(kLeaseValueBytes);
  out.push_back(static_cast<char>(kLeaseRecordVersion));
  put_be64(out, static_cast<uint64_t>(record.ttl_seconds));
  return out;
}

Result<LeaseRecord> decode_lease_record(std::string_view key, std::string_view value) {
  if (key.size() != kLeaseKeyBytes) {
    return make_error(ErrorCode::kStorage, "lease record key is not 8 bytes");
  }
  if (value.size() != kLeaseValueBytes ||
      static_cast<uint8_t>(value[0]) != kLeaseRecordVersion) {
    return make_error(ErrorCode::kStorage, "lease record value has an unknown format");
  }
  LeaseRecord record;
  record.id = static_cast<LeaseId>(get_be64(key));
  record.ttl_seconds = static_cast<int64_t>(get_be64(value.substr(1)));
  if (record.id <= 0 || record.ttl_seconds <= 0 || record.ttl_seconds > kMaxTtlSeconds) {
    return make_error(ErrorCode::kStorage, "lease record out of range: id " +
                                               std::to_string(record.id) + " ttl " +
                                               std::to_string(record.ttl_seconds));
  }
  return record;
}

}  // namespace corral::lease
