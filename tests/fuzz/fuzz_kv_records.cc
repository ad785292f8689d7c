// The key space's stored records, as a member reads them back at start-up
// or after a snapshot install: kv revision keys and KeyValue records, the
// kv state record, lease records (key and value), member and removed-member
// records, and the data dir's identity record (a Member with an id and a
// name, read by server::load_identity).
//
// Input: u8 selector | record bytes (for a lease: u8 key length | key | value).
#include "coordinator/kv/record_codec.h"
#include "coordinator/kv/revision_key.h"
#include "coordinator/lease/lease_record.h"
#include "coordinator/server/identity.h"
#include "coordinator/server/members.h"
#include "coordinator/storage/engine.h"
#include "tests/fuzz/fuzz_check.h"

using namespace corral;

namespace {

// load_identity as a member runs it at start: the record under
// kIdentityKey of an in-memory engine (one, reused: opening RocksDB per
// input would be most of the time).
void check_identity(std::string_view record) {
  // Never destroyed: RocksDB's own statics may be gone at exit.
  static storage::Engine* engine = [] {
    storage::EngineOptions eo;
    eo.in_memory = true;
    eo.path = "/fuzz-identity";
    return std::move(storage::Engine::open(eo)).value().release();
  }();
  storage::WriteBatch batch;
  batch.put(storage::Space::kRaftMeta, server::kIdentityKey, record);
  FUZZ_CHECK(engine->write(std::move(batch), false).ok());
  auto identity = server::load_identity(*engine);
  if (identity.ok()) {
    FUZZ_CHECK(identity->has_value());
    FUZZ_CHECK((*identity)->id != 0 && !(*identity)->name.empty());
    // Written back as a member writes it, it reads the same.
    storage::WriteBatch again;
    server::stage_identity(again, **identity);
    FUZZ_CHECK(engine->write(std::move(again), false).ok());
    auto back = server::load_identity(*engine);
    FUZZ_CHECK(back.ok() && back->has_value() && (*back)->id == (*identity)->id && (*back)->name == (*identity)->name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      if (auto rk = kv::decode_revision_key(bytes)) {
        FUZZ_CHECK(kv::revision_key(rk->rev, rk->tombstone) == bytes);
      }
      break;
    }
    case 1: fuzz::check_round_trip_equal(bytes, kv::decode_key_value, kv::encode_key_value); break;
    case 2: fuzz::check_round_trip_equal(bytes, kv::decode_kv_state, kv::encode_kv_state); break;
    case 3: {
      if (bytes.empty()) break;
      const size_t key_len = std::min<size_t>(static_cast<unsigned char>(bytes[0]) % 16, bytes.size() - 1);
      const std::string_view key = bytes.substr(1, key_len);
      const std::string_view value = bytes.substr(1 + key_len);
      auto rec = lease::decode_lease_record(key, value);
      if (!rec.ok()) break;
      FUZZ_CHECK(lease::encode_lease_key(rec->id) == key);
      auto back = lease::decode_lease_record(lease::encode_lease_key(rec->id), lease::encode_lease_value(*rec));
      FUZZ_CHECK(back.ok() && *back == *rec);
      break;
    }
    case 4: fuzz::check_round_trip_equal(bytes, server::decode_member, server::encode_member); break;
    case 5: check_identity(bytes); break;
  }
  return 0;
}
