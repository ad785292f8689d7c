#include "coordinator/server/command.h"

#include <cstring>

namespace corral::server {

namespace {

constexpr char kMagic = 'K';
constexpr char kVersion = 1;  // attributes; commands before auth stamps
constexpr char kCommandVersion = 2;
constexpr char kConfMagic = 'M';
constexpr size_t kHeaderBytes = 2 + 8 + 4;
constexpr size_t kItemHeaderBytes = 8 + 4;

template <typename T>
void put_le(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
template <typename T>
T get_le(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

CommandWriter::CommandWriter(uint64_t proposer) : proposer_(proposer) { reset(); }

void CommandWriter::reset() {
  data_.clear();
  data_.push_back(kMagic);
  data_.push_back(kCommandVersion);
  put_le<uint64_t>(data_, proposer_);
  put_le<uint32_t>(data_, 0);
  count_ = 0;
}

void CommandWriter::add(uint64_t proposal_id, std::string_view request, std::optional<AuthStamp> stamp) {
  put_le<uint64_t>(data_, proposal_id);
  put_le<uint32_t>(data_, static_cast<uint32_t>(request.size()));
  data_.append(request);
  data_.push_back(stamp ? 1 : 0);
  if (stamp) {
    const std::string_view user = stamp->user.substr(0, kMaxStampUserBytes);
    put_le<uint64_t>(data_, stamp->auth_revision);
    put_le<uint16_t>(data_, static_cast<uint16_t>(user.size()));
    data_.append(user);
  }
  ++count_;
}

std::string CommandWriter::take() {
  std::string count;
  put_le<uint32_t>(count, count_);
  std::memcpy(data_.data() + 10, count.data(), 4);
  std::string out = std::move(data_);
  reset();
  return out;
}

Result<Command> decode_command(std::string_view data) {
  if (data.size() < kHeaderBytes || data[0] != kMagic || (data[1] != kVersion && data[1] != kCommandVersion)) {
    return make_error(ErrorCode::kBadRequest, "entry is not a command (magic/version)");
  }
  Command cmd;
  cmd.proposer = get_le<uint64_t>(data.data() + 2);
  uint32_t count = get_le<uint32_t>(data.data() + 10);
  if (count == 0 || count > kMaxRequestsPerEntry) {
    return make_error(ErrorCode::kBadRequest, "command holds " + std::to_string(count) + " requests");
  }
  size_t pos = kHeaderBytes;
  cmd.items.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (data.size() - pos < kItemHeaderBytes) {
      return make_error(ErrorCode::kBadRequest, "command truncated in item header");
    }
    CommandItem item;
    item.proposal_id = get_le<uint64_t>(data.data() + pos);
    uint32_t len = get_le<uint32_t>(data.data() + pos + 8);
    pos += kItemHeaderBytes;
    if (data.size() - pos < len) return make_error(ErrorCode::kBadRequest, "command truncated in item");
    item.request = data.substr(pos, len);
    pos += len;
    if (data[1] == kCommandVersion) {
      if (data.size() - pos < 1) return make_error(ErrorCode::kBadRequest, "command truncated in item stamp");
      const char stamped = data[pos++];
      if (stamped != 0 && stamped != 1) return make_error(ErrorCode::kBadRequest, "command item stamp flag is not 0 or 1");
      if (stamped == 1) {
        if (data.size() - pos < 10) return make_error(ErrorCode::kBadRequest, "command truncated in item stamp");
        AuthStamp stamp;
        stamp.auth_revision = get_le<uint64_t>(data.data() + pos);
        const uint16_t user_len = get_le<uint16_t>(data.data() + pos + 8);
        pos += 10;
        if (data.size() - pos < user_len) return make_error(ErrorCode::kBadRequest, "command truncated in item user");
        stamp.user = data.substr(pos, user_len);
        pos += user_len;
        item.stamp = stamp;
      }
    }
    cmd.items.push_back(item);
  }
  if (pos != data.size()) return make_error(ErrorCode::kBadRequest, "command has trailing bytes");
  return cmd;
}

std::string encode_attributes(std::string_view member_record) {
  std::string out;
  out.push_back(kAttributesMagic);
  out.push_back(kVersion);
  out.append(member_record);
  return out;
}

bool is_attributes(std::string_view data) {
  return data.size() >= 2 && data[0] == kAttributesMagic && data[1] == kVersion;
}

std::string_view attributes_record(std::string_view data) { return data.substr(2); }

std::string encode_conf_context(const ConfChangeContext& ctx) {
  std::string out;
  out.push_back(kConfMagic);
  put_le<uint64_t>(out, ctx.proposer);
  put_le<uint64_t>(out, ctx.proposal_id);
  out.append(ctx.member);
  return out;
}

Result<ConfChangeContext> decode_conf_context(std::string_view data) {
  if (data.size() < 17 || data[0] != kConfMagic) {
    return make_error(ErrorCode::kBadRequest, "conf change context is not ours");
  }
  ConfChangeContext ctx;
  ctx.proposer = get_le<uint64_t>(data.data() + 1);
  ctx.proposal_id = get_le<uint64_t>(data.data() + 9);
  ctx.member = std::string(data.substr(17));
  return ctx;
}

}  // namespace corral::server
