// The replicated state machine of the simulation: a map key -> value applied
// from committed entries, which also keeps every value each key ever had, so
// that "no acknowledged write is lost" can be checked on the final state.
// Every put's value is unique (it names the proposal), so the state machine
// can tell a put applied twice; a key's version counts the puts applied to
// it (etcd's version), so that reads reveal a duplicate too.
//
// Command format (entry data): "put\n<key>\n<value>"; keys and values contain
// no newline. An empty entry is a leader's no-op.
// Snapshot format: for each key in order, "<key>\n<count>\n" followed by its
// values, one per line, oldest first; the current value is the last.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corral::sim {

struct PutCommand {
  std::string key;
  std::string value;
};

std::string encode_put(const PutCommand& put);
std::optional<PutCommand> decode_put(const std::string& data);

class KvStateMachine {
 public:
  // Applies `put`; false when this very put (key and value) was applied
  // before. It is applied again all the same, as a broken server would.
  bool apply(const PutCommand& put);
  // The current value, "" when the key was never written.
  std::string get(const std::string& key) const;
  // How many puts were applied to `key`.
  uint64_t version(const std::string& key) const;
  // Whether `value` was ever written to `key`.
  bool wrote(const std::string& key, const std::string& value) const;

  std::string serialize() const;
  static std::optional<KvStateMachine> deserialize(const std::string& data);

  bool operator==(const KvStateMachine&) const = default;

 private:
  std::map<std::string, std::vector<std::string>> history_;
};

}  // namespace corral::sim
