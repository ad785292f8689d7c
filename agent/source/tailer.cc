#include "agent/source/tailer.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "agent/fetch/fetch_codec.h"
#include "agent/source/line_reader.h"

namespace corral::agent::source {
namespace {

using fetch::FetchErrorCode;
using fetch::FetchReply;
using fetch::FetchRequest;

fetch::FetchError bad_config(std::string what) {
  return fetch::make_fetch_error(FetchErrorCode::kBadRequest, "tailer: " + what);
}

fetch::Status check_config(const std::vector<StreamConfig>& streams, const TailerOptions& options) {
  std::set<std::string> names;
  for (const StreamConfig& s : streams) {
    if (s.name.empty() || s.name.size() > fetch::kMaxStreamNameBytes) return bad_config("bad stream name");
    if (!names.insert(s.name).second) return bad_config("stream " + s.name + " named twice");
    if (s.globs.empty() || s.globs.size() > kMaxGlobsPerStream) {
      return bad_config("stream " + s.name + " needs 1.." + std::to_string(kMaxGlobsPerStream) + " globs");
    }
  }
  if (options.max_line_bytes == 0 || options.max_line_bytes > fetch::kMaxLineBytes) {
    return bad_config("max_line_bytes out of range");
  }
  if (options.files.max_retained_files == 0 ||
      options.files.max_retained_files > kMaxRetainedFilesPerStream) {
    return bad_config("max_retained_files out of range");
  }
  if (options.poll_interval.count() <= 0) return bad_config("poll_interval must be positive");
  return {};
}

// The directory of a pattern whose wildcards are all in its last element.
std::optional<std::string> literal_dir(const std::string& pattern) {
  const size_t slash = pattern.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : pattern.substr(0, std::max<size_t>(slash, 1));
  if (dir.find_first_of("*?[") != std::string::npos) return std::nullopt;
  return dir;
}

void add_matches(const std::string& pattern, std::vector<Candidate>& out) {
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st {};
      if (::stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      out.push_back(Candidate{g.gl_pathv[i], static_cast<uint64_t>(st.st_dev),
                              static_cast<uint64_t>(st.st_ino), mtime_ns});
    }
  }
  ::globfree(&g);
}

FetchReply position_reply(uint64_t id, const std::string& file, uint64_t offset, uint64_t end) {
  FetchReply r;
  r.id = id;
  r.file = file;
  r.offset = offset;
  r.next_file = file;
  r.next_offset = offset;
  r.end_bytes = end;
  return r;
}

}  // namespace

fetch::Result<std::unique_ptr<Tailer>> Tailer::create(std::vector<StreamConfig> streams,
                                                      TailerOptions options) {
  if (fetch::Status s = check_config(streams, options); !s.ok()) return s.error();
  std::unique_ptr<Tailer> t(new Tailer(options));
  if (options.use_inotify) t->watch_ = DirWatch::create();
  for (StreamConfig& s : streams) {
    std::string name = s.name;
    t->streams_.emplace(name, Stream{std::move(s), std::make_unique<StreamFiles>(options.files)});
  }
  t->rescan();
  return t;
}

std::chrono::milliseconds Tailer::poll_timeout() const {
  const auto now = Clock::now();
  if (next_scan_ <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(next_scan_ - now);
}

void Tailer::poll_changes() {
  const bool changed = watch_ && watch_->drain();
  if (changed || Clock::now() >= next_scan_) rescan();
}

void Tailer::rescan() {
  const auto now = Clock::now();
  for (auto& [name, stream] : streams_) scan(stream, now);
  next_scan_ = now + options_.poll_interval;
}

void Tailer::scan(Stream& stream, Clock::time_point now) {
  std::vector<Candidate> candidates;
  for (const std::string& pattern : stream.config.globs) {
    if (watch_) {
      if (std::optional<std::string> dir = literal_dir(pattern)) watch_->watch(*dir);
    }
    add_matches(pattern, candidates);
  }
  stream.files->update(std::move(candidates), now);
}

FetchReply Tailer::read(const FetchRequest& request) {
  if (fetch::Status s = fetch::validate(request); !s.ok()) {
    return fetch::error_reply(request.id, s.error().code, s.error().message);
  }
  auto it = streams_.find(request.stream);
  if (it == streams_.end()) {
    return fetch::error_reply(request.id, FetchErrorCode::kUnknownStream,
                              "no stream " + request.stream + " on this source");
  }
  StreamFiles& files = *it->second.files;
  files.commit(request.committed_file);
  if (request.file.empty()) {
    if (files.files().empty()) return position_reply(request.id, "", 0, 0);
    return read_from(it->second, request, 0, 0);
  }
  const int index = files.find(request.file);
  if (index >= 0) return read_from(it->second, request, static_cast<size_t>(index), request.offset);
  const std::string oldest = files.files().empty() ? "" : files.files().front().id;
  FetchReply r = position_reply(request.id, oldest, 0, end_bytes(files, 0, 0));
  r.error = FetchErrorCode::kUnknownFile;
  r.message = "file " + request.file + " is not retained; the stream continues at " +
              (oldest.empty() ? "its next file" : oldest + ":0");
  return r;
}

FetchReply Tailer::read_from(Stream& stream, const FetchRequest& request, size_t index,
                             uint64_t offset) {
  StreamFiles& files = *stream.files;
  const auto now = Clock::now();
  const size_t max_bytes = std::min(request.max_bytes, fetch::kMaxReplyDataBytes);
  std::string note;
  // One file per answer: the loop only moves past finished files, at most
  // once per retained file.
  for (size_t i = index;; ++i) {
    const uint64_t size = files.refresh(i, now);
    const TrackedFile& f = files.files()[i];
    const bool finished = files.finished(i, now);
    if (f.truncated) {
      if (offset < f.size) {
        note = "file " + f.id + " was truncated: bytes " + std::to_string(offset) + ".." +
               std::to_string(f.size) + " were lost";
      }
    } else {
      if (offset > size) {
        return fetch::error_reply(request.id, FetchErrorCode::kBadRequest,
                                  "offset " + std::to_string(offset) + " is past the end (" +
                                      std::to_string(size) + ") of file " + f.id);
      }
      fetch::Result<LineChunk> chunk =
          read_lines(f.fd, offset, size, max_bytes, options_.max_line_bytes, finished);
      if (!chunk.ok()) return fetch::error_reply(request.id, chunk.error().code, chunk.error().message);
      if (!chunk->data.empty()) {
        FetchReply r = position_reply(request.id, f.id, offset,
                                      end_bytes(files, i, offset + chunk->consumed));
        r.next_offset = offset + chunk->consumed;
        r.data = std::move(chunk->data);
        r.message = std::move(note);
        return r;
      }
    }
    if (!finished || i + 1 >= files.files().size()) {
      FetchReply r = position_reply(request.id, f.id, offset, end_bytes(files, i, offset));
      r.message = std::move(note);
      return r;
    }
    offset = 0;
  }
}

uint64_t Tailer::end_bytes(const StreamFiles& files, size_t index, uint64_t offset) const {
  uint64_t total = 0;
  for (size_t i = index; i < files.files().size(); ++i) {
    const TrackedFile& f = files.files()[i];
    if (f.truncated) continue;
    total += i == index ? f.size - std::min(offset, f.size) : f.size;
  }
  return total;
}

std::vector<fetch::StreamInfo> Tailer::streams() const {
  std::vector<fetch::StreamInfo> out;
  for (const auto& [name, stream] : streams_) {
    out.push_back(fetch::StreamInfo{name, stream.config.globs,
                                    static_cast<uint32_t>(stream.files->files().size()),
                                    stream.files->retained_bytes()});
  }
  return out;
}

std::vector<FileInfo> Tailer::files(std::string_view stream) const {
  std::vector<FileInfo> out;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return out;
  for (const TrackedFile& f : it->second.files->files()) {
    out.push_back(FileInfo{f.id, f.path, f.size, f.fd >= 0, f.truncated});
  }
  return out;
}

size_t Tailer::open_files() const {
  size_t total = 0;
  for (const auto& [name, stream] : streams_) total += stream.files->open_files();
  return total;
}

}  // namespace corral::agent::source
