#include "coordinator/kv/key_tree.h"

#include <cstring>
#include <new>

#include "coordinator/base/check.h"

namespace corral::kv {

KeyEntry::Owner KeyEntry::make(std::string_view key) {
  void* block = ::operator new(sizeof(KeyEntry) + key.size());
  auto* entry = new (block) KeyEntry();
  entry->size_ = key.size();
  // The key's bytes follow the entry in its block (key() reads them there).
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(entry + 1), key.data(), key.size());
  return Owner(entry);
}

void KeyEntry::Free::operator()(KeyEntry* e) const {
  e->~KeyEntry();
  // Unsized: clang has no sized delete without -fsized-deallocation.
  ::operator delete(static_cast<void*>(e));
}

KeyTree::Head KeyTree::Head::of(std::string_view key) {
  uint64_t word[2] = {0, 0};
  const size_t n = key.size() < 16 ? key.size() : 16;
  for (size_t i = 0; i < n; ++i) {
    word[i / 8] |= static_cast<uint64_t>(static_cast<unsigned char>(key[i])) << (56 - 8 * (i % 8));
  }
  return Head{word[0], word[1]};
}

KeyTree::iterator KeyTree::find(std::string_view key) const {
  return iterator(set_.find(Probe{Head::of(key), key}));
}

KeyTree::iterator KeyTree::lower_bound(std::string_view key) const {
  return iterator(set_.lower_bound(Probe{Head::of(key), key}));
}

KeyTree::iterator KeyTree::insert(iterator hint, std::string_view key) {
  KeyEntry::Owner entry = KeyEntry::make(key);
  const KeyEntry* added = entry.get();
  auto it = set_.insert(hint.it_, Slot{Head::of(key), std::move(entry)});
  CORRAL_CHECK(it->entry.get() == added);  // the key was absent
  return iterator(it);
}

std::pair<KeyTree::iterator, bool> KeyTree::try_emplace(std::string_view key) {
  auto at = lower_bound(key);
  if (at != end() && at->key() == key) return {at, false};
  return {insert(at, key), true};
}

KeyTree::iterator KeyTree::erase(iterator it) { return iterator(set_.erase(it.it_)); }

}  // namespace corral::kv
