#include "tests/sim/kv_state_machine.h"

#include <algorithm>

namespace corral::sim {
namespace {

constexpr char kPutPrefix[] = "put\n";

// Splits `data` at newlines; a trailing newline ends the last field.
std::vector<std::string> split_lines(const std::string& data) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    out.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string encode_put(const PutCommand& put) {
  return std::string(kPutPrefix) + put.key + "\n" + put.value;
}

std::optional<PutCommand> decode_put(const std::string& data) {
  if (data.rfind(kPutPrefix, 0) != 0) return std::nullopt;
  const size_t key_start = sizeof(kPutPrefix) - 1;
  const size_t nl = data.find('\n', key_start);
  if (nl == std::string::npos || data.find('\n', nl + 1) != std::string::npos) return std::nullopt;
  return PutCommand{data.substr(key_start, nl - key_start), data.substr(nl + 1)};
}

bool KvStateMachine::apply(const PutCommand& put) {
  const bool first = !wrote(put.key, put.value);
  history_[put.key].push_back(put.value);
  return first;
}

uint64_t KvStateMachine::version(const std::string& key) const {
  auto it = history_.find(key);
  return it == history_.end() ? 0 : it->second.size();
}

std::string KvStateMachine::get(const std::string& key) const {
  auto it = history_.find(key);
  return it == history_.end() || it->second.empty() ? std::string() : it->second.back();
}

bool KvStateMachine::wrote(const std::string& key, const std::string& value) const {
  auto it = history_.find(key);
  return it != history_.end() &&
         std::find(it->second.begin(), it->second.end(), value) != it->second.end();
}

std::string KvStateMachine::serialize() const {
  std::string out;
  for (const auto& [key, values] : history_) {
    out += key + "\n" + std::to_string(values.size()) + "\n";
    for (const std::string& v : values) out += v + "\n";
  }
  return out;
}

std::optional<KvStateMachine> KvStateMachine::deserialize(const std::string& data) {
  KvStateMachine sm;
  const std::vector<std::string> lines = split_lines(data);
  size_t i = 0;
  while (i < lines.size()) {
    if (i + 1 >= lines.size()) return std::nullopt;
    const std::string& key = lines[i];
    const std::string& count_text = lines[i + 1];
    if (count_text.empty() || count_text.size() > 9 ||
        !std::all_of(count_text.begin(), count_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const size_t count = std::stoul(count_text);
    i += 2;
    if (lines.size() - i < count) return std::nullopt;
    std::vector<std::string>& values = sm.history_[key];
    values.assign(lines.begin() + static_cast<long>(i), lines.begin() + static_cast<long>(i + count));
    i += count;
  }
  return sm;
}

}  // namespace corral::sim
