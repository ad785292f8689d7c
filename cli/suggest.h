// The nearest command to a word that matched none, for "did you mean".
#pragma once

#include <string>
#include <vector>

namespace corral::cli {

// Levenshtein distance: insertions, deletions and substitutions.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` if it is close enough to be a typo (at most
// 2 edits, or a third of the word) or starts with it; empty otherwise. Ties go
// to the first candidate.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace corral::cli
