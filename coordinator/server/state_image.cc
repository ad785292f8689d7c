#include "coordinator/server/state_image.h"

namespace corral::server {

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

Error broken(const std::string& why) { return make_error(ErrorCode::kBadRequest, "snapshot image: " + why); }

}  // namespace

void append_image_record(std::string& image, storage::Space space, std::string_view key, std::string_view value) {
  image.push_back(static_cast<char>(space));
  put_u32(image, static_cast<uint32_t>(key.size()));
  image.append(key);
  put_u32(image, static_cast<uint32_t>(value.size()));
  image.append(value);
}

Result<std::vector<ImageRecord>> parse_state_image(std::string_view image) {
  if (image.size() < kImageMagic.size() + 1 || image.substr(0, kImageMagic.size()) != kImageMagic) {
    return broken("bad magic");
  }
  std::vector<ImageRecord> records;
  size_t pos = kImageMagic.size();
  while (true) {
    if (pos >= image.size()) return broken("truncated");
    auto tag = static_cast<unsigned char>(image[pos]);
    if (tag == kImageEnd) {
      if (pos + 1 != image.size()) return broken("trailing bytes");
      return records;
    }
    bool known = false;
    for (storage::Space s : kImageSpaces) known = known || static_cast<unsigned char>(s) == tag;
    if (!known || image.size() - pos < 5) return broken("bad record");
    ImageRecord rec{static_cast<storage::Space>(tag), {}, {}};
    uint32_t klen = get_u32(image.data() + pos + 1);
    pos += 5;
    if (image.size() - pos < static_cast<size_t>(klen) + 4) return broken("truncated key");
    rec.key = image.substr(pos, klen);
    pos += klen;
    uint32_t vlen = get_u32(image.data() + pos);
    pos += 4;
    if (image.size() - pos < vlen) return broken("truncated value");
    rec.value = image.substr(pos, vlen);
    pos += vlen;
    records.push_back(rec);
  }
}

}  // namespace corral::server
