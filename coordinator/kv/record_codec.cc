#include "coordinator/kv/record_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "schema/records.capnp.h"

namespace corral::kv {
namespace {

std::string to_string(const kj::Array<capnp::word>& words) {
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

kj::ArrayPtr<const capnp::byte> as_bytes(std::string_view s) {
  return kj::arrayPtr(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

// Reads one flat message from `bytes` (copied: stored values are not word
// aligned) and hands its root to `read`. Malformed input throws inside
// Cap'n Proto; it becomes a kStorage error here.
template <typename Root, typename T, typename Fn>
Result<T> read_flat(std::string_view bytes, const char* what, Fn read) {
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty()) {
    return make_error(ErrorCode::kStorage, std::string("stored ") + what + " has a bad length");
  }
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    capnp::FlatArrayMessageReader reader(words);
    return read(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::kStorage,
                      std::string("stored ") + what + " does not decode: " + e.getDescription().cStr());
  }
}

// First segment sizes that fit the whole record: the builder's default (1024
// words, zeroed) costs more than the encoding itself. Root pointer + data
// section + pointer section + the byte blobs rounded up to words.
constexpr unsigned kKeyValueFixedWords = 1 + 4 + 2;
constexpr unsigned kKvStateWords = 1 + 3;

unsigned key_value_words(const KeyValue& kv) {
  auto words = [](size_t bytes) { return static_cast<unsigned>((bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word)); };
  return kKeyValueFixedWords + words(kv.key.size()) + words(kv.value.size());
}

}  // namespace

std::string encode_key_value(const KeyValue& kv) {
  capnp::MallocMessageBuilder message(key_value_words(kv));
  auto r = message.initRoot<schema::records::KeyValueRecord>();
  r.setKey(as_bytes(kv.key));
  r.setValue(as_bytes(kv.value));
  r.setCreateRevision(kv.create_revision);
  r.setModRevision(kv.mod_revision);
  r.setVersion(kv.version);
  r.setLease(kv.lease);
  return to_string(capnp::messageToFlatArray(message));
}

Result<KeyValue> decode_key_value(std::string_view bytes) {
  return read_flat<schema::records::KeyValueRecord, KeyValue>(
      bytes, "key-value record", [](schema::records::KeyValueRecord::Reader r) {
        KeyValue kv;
        auto key = r.getKey();
        auto value = r.getValue();
        kv.key.assign(reinterpret_cast<const char*>(key.begin()), key.size());
        kv.value.assign(reinterpret_cast<const char*>(value.begin()), value.size());
        kv.create_revision = r.getCreateRevision();
        kv.mod_revision = r.getModRevision();
        kv.version = r.getVersion();
        kv.lease = r.getLease();
        return kv;
      });
}

std::string encode_kv_state(const KvState& state) {
  capnp::MallocMessageBuilder message(kKvStateWords);
  auto r = message.initRoot<schema::records::KvStateRecord>();
  r.setAppliedIndex(state.applied_index);
  r.setCurrentRevision(state.current_revision);
  r.setCompactRevision(state.compact_revision);
  return to_string(capnp::messageToFlatArray(message));
}

Result<KvState> decode_kv_state(std::string_view bytes) {
  return read_flat<schema::records::KvStateRecord, KvState>(
      bytes, "kv state record", [](schema::records::KvStateRecord::Reader r) {
        return KvState{r.getAppliedIndex(), r.getCurrentRevision(), r.getCompactRevision()};
      });
}

}  // namespace corral::kv
