// The readable record of one simulated run. Every line (and a compact digest
// of every delivered message) is folded into a 64-bit FNV-1a hash, so two
// runs of one seed can be compared byte for byte without keeping the text;
// the text itself is kept only when asked for (--trace, SIM_SEED).
#pragma once

#include <cstdint>
#include <string>

namespace corral::sim {

class Trace {
 public:
  explicit Trace(bool keep_text) : keep_text_(keep_text) {}

  void line(uint64_t tick, const std::string& text) {
    std::string s = "t=" + std::to_string(tick) + " " + text + "\n";
    mix_bytes(s);
    if (keep_text_) text_ += s;
  }
  void mix(uint64_t value) {
    for (int i = 0; i < 8; ++i) mix_byte(static_cast<uint8_t>(value >> (8 * i)));
  }
  uint64_t hash() const { return hash_; }
  const std::string& text() const { return text_; }

 private:
  void mix_byte(uint8_t b) { hash_ = (hash_ ^ b) * 0x100000001b3ULL; }
  void mix_bytes(const std::string& s) {
    for (char c : s) mix_byte(static_cast<uint8_t>(c));
  }
  bool keep_text_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::string text_;
};

}  // namespace corral::sim
