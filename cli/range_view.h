// What `get` does to a page of keys before printing it: etcdctl's --sort-by
// and --order (the server does not sort, so the sort is over the page
// returned, the first --limit keys in key order), and --hex.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/types.h"

namespace corral::cli {

enum class SortTarget { kNone, kKey, kVersion, kCreate, kModify, kValue };

struct SortSpec {
  SortTarget target = SortTarget::kNone;
  bool descend = false;
};

// From etcdctl's words (case-insensitive): --sort-by KEY|VERSION|CREATE|MODIFY|VALUE
// and --order ASCEND|DESCEND; either may be empty. An --order alone sorts by
// key, as in etcdctl. nullopt: a word that is neither.
std::optional<SortSpec> parse_sort(const std::string& sort_by, const std::string& order);

// Stable: keys equal in the target keep their key order.
void sort_kvs(std::vector<client::KeyValue>& kvs, const SortSpec& spec);

// etcdctl's --hex form: every byte as \xNN.
std::string hex_bytes(const std::string& bytes);

}  // namespace corral::cli
