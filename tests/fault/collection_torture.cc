#include "tests/fault/collection_torture.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "tests/integration/harness/cluster.h"

namespace corral::fault::torture {

namespace {

constexpr auto kAgentReadyTimeout = std::chrono::seconds(20);
constexpr int kAgentStartAttempts = 8;

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("write failed: " + std::string(strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
}

int open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + strerror(errno));
  return fd;
}

}  // namespace

std::string agent_path() { return CORRAL_AGENT_PATH; }

int free_port() { return integration::next_free_port(); }

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string payload_of(uint64_t seed, const std::string& stream, uint64_t seq) {
  uint64_t h = seed;
  for (unsigned char c : stream) h = mix64(h ^ c);
  uint64_t s = mix64(h ^ (seq * 0x2545f4914f6cdd1dULL));
  const uint64_t pick = s % 100;
  size_t len;
  if (pick < 70) {
    len = 1 + (mix64(s) % 200);
  } else if (pick < 95) {
    len = 200 + (mix64(s) % 1800);
  } else {
    len = 2000 + (mix64(s) % 6193);  // up to 8192
  }
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(len, 'x');
  uint64_t r = s;
  for (size_t i = 0; i < len; ++i) {
    if (i % 8 == 0) r = mix64(r + i);
    out[i] = kChars[(r >> ((i % 8) * 8)) % 36];
  }
  return out;
}

std::string line_of(uint64_t seed, const std::string& stream, uint64_t seq) {
  return stream + " " + std::to_string(seq) + " " + payload_of(seed, stream, seq) + "\n";
}

// --- Agent --------------------------------------------------------------------

Agent::Agent(std::string id, bool source, std::vector<std::string> args, std::string log_path)
    : id_(std::move(id)), source_(source), args_(std::move(args)), log_path_(std::move(log_path)) {}

void Agent::start() {
  std::string why;
  const auto deadline = Clock::now() + kAgentReadyTimeout;
  for (int attempt = 0; attempt < kAgentStartAttempts && Clock::now() < deadline; ++attempt) {
    const size_t log_start = integration::read_file(log_path_).size();
    process_ = integration::Process::spawn(agent_path(), args_, log_path_);
    ++starts_;
    std::optional<int> exited;
    bool ready = false;
    while (Clock::now() < deadline) {
      if ((exited = process_.poll())) break;
      const std::string log = integration::read_file(log_path_).substr(log_start);
      ready = source_ ? (log.find("source: serving") != std::string::npos &&
                         log.find("registered ") != std::string::npos)
                      : log.find("collector: writing to") != std::string::npos;
      if (ready) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) {
      why = "not ready in time";
      process_.kill_and_wait();
      break;
    }
    // 4: the listen port is still held (a killed source's sockets); 3: the
    // cluster was not reachable (a leader election). Both pass: try again.
    why = "exited with status " + std::to_string(*exited) + ": " +
          integration::read_file(log_path_).substr(log_start);
    process_ = integration::Process();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  throw std::runtime_error("agent " + id_ + " did not start: " + why);
}

void Agent::kill9() {
  if (process_.valid()) process_.kill_and_wait();
  process_ = integration::Process();
}

void Agent::pause() { process_.signal(SIGSTOP); }
void Agent::resume() { process_.signal(SIGCONT); }

// --- StreamWriter ---------------------------------------------------------------

StreamWriter::StreamWriter(uint64_t seed_, std::string ip_, std::string topic_, std::string dir_, Shape shape_)
    : seed(seed_), ip(std::move(ip_)), topic(std::move(topic_)), dir(std::move(dir_)), shape(shape_) {
  std::filesystem::create_directories(dir);
  fd = open_append(current_path());
}

StreamWriter::~StreamWriter() {
  if (fd >= 0) ::close(fd);
}

std::string StreamWriter::glob() const {
  return shape == Shape::kRenameUnmatched ? dir + "/current.log" : dir + "/access.log*";
}

std::string StreamWriter::current_path() const {
  return shape == Shape::kRenameUnmatched ? dir + "/current.log" : dir + "/access.log";
}

void StreamWriter::reopen_locked() {
  ::close(fd);
  fd = open_append(current_path());
  rotated_lines.store(next_seq.load());
  file_bytes = 0;
  reopen_pending.store(false);
}

void StreamWriter::write_one() {
  std::lock_guard lock(mu);
  if (reopen_pending.load()) {
    if (late_lines_left == 0) reopen_locked();
  } else if (file_bytes >= rotate_bytes && !hold_rotation.load()) {
    // logrotate's way: rename; the application goes on writing to its open
    // fd (the renamed file) until it reopens its log a few lines later.
    const int n = renames.load() + 1;
    const std::string to = current_path() + "." + std::to_string(n);
    if (::rename(current_path().c_str(), to.c_str()) != 0) throw std::runtime_error("rename failed");
    renames.store(n);
    reopen_pending.store(true);
    late_lines_left = mix64(seed ^ (static_cast<uint64_t>(n) << 32) ^ next_seq.load()) % 21;
    if (late_lines_left == 0) reopen_locked();
  }
  const uint64_t seq = next_seq.load();
  const std::string line = line_of(seed, name(), seq);
  write_all(fd, line);
  if (reopen_pending.load() && late_lines_left > 0) {
    ++late_after_rename;
    --late_lines_left;
  }
  file_bytes += line.size();
  bytes_written += line.size();
  next_seq.store(seq + 1);
  if (reopen_pending.load() && late_lines_left == 0) reopen_locked();
}

void StreamWriter::copytruncate_locked() {
  if (reopen_pending.load()) reopen_locked();
  const int n = copytruncates.load() + 1;
  const std::string to = current_path() + ".ct" + std::to_string(n);
  std::filesystem::copy_file(current_path(), to);
  if (::ftruncate(fd, 0) != 0) throw std::runtime_error("ftruncate failed");
  file_bytes = 0;
  copytruncates.store(n);
}

// --- the check ---------------------------------------------------------------------

std::map<std::string, StreamTally> tally_sinks(uint64_t seed, const std::vector<std::string>& sink_dirs,
                                               const std::string& app,
                                               const std::map<std::string, uint64_t>& written) {
  std::map<std::string, StreamTally> out;
  std::map<std::string, std::vector<uint16_t>> copies;
  for (const auto& [name, n] : written) {
    out[name].name = name;
    out[name].written = n;
    copies[name].assign(n, 0);
  }
  const auto problem = [](StreamTally& t, const std::string& what) {
    if (t.problems.size() < 8) t.problems.push_back(what);
  };
  for (const std::string& sink : sink_dirs) {
    const std::filesystem::path root = std::filesystem::path(sink) / app;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& topic_dir : std::filesystem::directory_iterator(root)) {
      for (const auto& file : std::filesystem::directory_iterator(topic_dir.path())) {
        const std::string topic = topic_dir.path().filename().string();
        std::string ip = file.path().filename().string();
        if (ip.size() > 4 && ip.substr(ip.size() - 4) == ".log") ip.resize(ip.size() - 4);
        const std::string name = topic + "@" + ip;
        auto it = out.find(name);
        if (it == out.end()) {
          StreamTally& t = out[name];
          t.name = name;
          t.corrupt = 1;
          problem(t, "a sink file for no stream written: " + file.path().string());
          continue;
        }
        StreamTally& t = it->second;
        std::vector<uint16_t>& seen = copies[name];
        ++t.files;
        std::ifstream in(file.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::optional<uint64_t> prev;
        size_t at = 0;
        uint64_t line_no = 0;
        while (at < data.size()) {
          ++line_no;
          const size_t eol = data.find('\n', at);
          const std::string where = file.path().string() + " line " + std::to_string(line_no);
          if (eol == std::string::npos) {
            ++t.corrupt;
            problem(t, where + ": partial last line (" + std::to_string(data.size() - at) + " bytes, no newline)");
            break;
          }
          const std::string_view line(data.data() + at, eol - at);
          at = eol + 1;
          const size_t sp1 = line.find(' ');
          const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
          uint64_t seq = 0;
          bool ok = sp2 != std::string_view::npos && line.substr(0, sp1) == name && sp2 > sp1 + 1 &&
                    sp2 - sp1 - 1 <= 19;
          for (size_t i = sp1 + 1; ok && i < sp2; ++i) {
            if (line[i] < '0' || line[i] > '9') ok = false;
            seq = seq * 10 + static_cast<uint64_t>(line[i] - '0');
          }
          ok = ok && seq < t.written && line.substr(sp2 + 1) == payload_of(seed, name, seq);
          if (!ok) {
            ++t.corrupt;
            problem(t, where + ": does not match what was written: " +
                           std::string(line.substr(0, std::min<size_t>(line.size(), 60))));
            continue;
          }
          ++t.delivered;
          if (seen[seq] > 0) {
            ++t.duplicated;
            t.duplicated_bytes += line.size() + 1;
          }
          if (seen[seq] < UINT16_MAX) ++seen[seq];
          if (prev) {
            if (seq <= *prev) {
              ++t.rewinds;
              if (t.rewind_notes.size() < 8) {
                t.rewind_notes.push_back(file.path().string() + " line " + std::to_string(line_no) + ": " +
                                         std::to_string(*prev) + " -> " + std::to_string(seq) + " (" +
                                         std::to_string(*prev - seq + 1) + " lines again)");
              }
            } else if (seq > *prev + 1) {
              ++t.skips;
            }
          }
          prev = seq;
        }
      }
    }
  }
  for (auto& [name, seen] : copies) {
    StreamTally& t = out[name];
    uint64_t first_lost = UINT64_MAX, last_lost = 0;
    for (uint64_t s = 0; s < seen.size(); ++s) {
      if (seen[s] == 0) {
        ++t.lost;
        first_lost = std::min(first_lost, s);
        last_lost = s;
      }
    }
    if (t.lost > 0) {
      problem(t, std::to_string(t.lost) + " lines lost, seqs " + std::to_string(first_lost) + ".." +
                     std::to_string(last_lost));
    }
  }
  return out;
}

}  // namespace corral::fault::torture
