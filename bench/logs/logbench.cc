// corral-logbench: the workload and the verifier of bench/logs.sh (corral vs
// rsyslog vs syslog-ng on the same files). No corral code: it only writes
// log files and reads whatever the systems under test wrote.
//
//   gen      writes numbered lines across F files, rotating each by rename;
//            its --state file records, per file, the next sequence number.
//   collect  reads every regular file under --dir (recursively, again and
//            again), finds each record, and stops when every line the
//            generator wrote since --base is there (or at --timeout). It
//            counts lost, duplicated and corrupt lines, and with --latency
//            the delay from a line's write to the read that first saw it.
//
// A line: "fNN SEQ t=NS PAYLOAD #CSUM\n": NN the file, SEQ from 1 per file,
// NS the CLOCK_REALTIME of the write in ns, PAYLOAD printable ASCII, CSUM the
// FNV-1a (32 bit, hex) of everything before " #". A line may carry a prefix
// (a syslog header): the record starts at the first "f<digits> <digits> t=".
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

uint32_t fnv(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "corral-logbench: %s\n", m.c_str());
  std::exit(2);
}

std::map<std::string, std::string> flags(int argc, char** argv, int from) {
  std::map<std::string, std::string> f;
  for (int i = from; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) die("unexpected argument " + a);
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      f[a.substr(2, eq - 2)] = a.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      f[a.substr(2)] = argv[++i];
    } else {
      f[a.substr(2)] = "1";
    }
  }
  return f;
}
std::string get(const std::map<std::string, std::string>& f, const char* k, const char* def) {
  auto it = f.find(k);
  return it == f.end() ? def : it->second;
}
int64_t geti(const std::map<std::string, std::string>& f, const char* k, int64_t def) {
  auto it = f.find(k);
  return it == f.end() ? def : std::strtoll(it->second.c_str(), nullptr, 10);
}

// The state: one "next seq" per file.
std::vector<int64_t> read_state(const std::string& path, int files) {
  std::vector<int64_t> next(files, 1);
  if (path.empty()) return next;
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return next;
  for (int i = 0; i < files; ++i)
    if (std::fscanf(f, "%" SCNd64, &next[i]) != 1) break;
  std::fclose(f);
  return next;
}
void write_state(const std::string& path, const std::vector<int64_t>& next) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) die("cannot write " + tmp);
  for (auto n : next) std::fprintf(f, "%" PRId64 "\n", n);
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
}

std::string file_name(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "f%02d", i);
  return b;
}

int open_log(const std::string& dir, int i) {
  std::string p = dir + "/" + file_name(i) + ".log";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + p + ": " + std::strerror(errno));
  return fd;
}

// Rotation as logrotate without copytruncate: .k -> .k+1, .log -> .1, reopen.
void rotate(const std::string& dir, int i, int& fd, int keep) {
  std::string base = dir + "/" + file_name(i) + ".log";
  for (int k = keep - 1; k >= 1; --k)
    std::rename((base + "." + std::to_string(k)).c_str(), (base + "." + std::to_string(k + 1)).c_str());
  std::rename(base.c_str(), (base + ".1").c_str());
  ::close(fd);
  fd = open_log(dir, i);
}

int gen(const std::map<std::string, std::string>& f) {
  const std::string dir = get(f, "dir", "");
  if (dir.empty()) die("gen needs --dir");
  const int files = int(geti(f, "files", 10));
  const int64_t lines = geti(f, "lines", 300000);
  const int rotations = int(geti(f, "rotations", 2));
  const int64_t big_permille = geti(f, "big-permille", 20);
  const int64_t rate = geti(f, "rate", 0);  // lines per second, 0 = as fast as possible
  const std::string state = get(f, "state", "");
  Rng rng{uint64_t(geti(f, "seed", 1)) * 0x9E3779B97F4A7C15ull + 1};
  auto next = read_state(state, files);
  const auto first = next;
  std::vector<int> fds(files);
  for (int i = 0; i < files; ++i) fds[i] = open_log(dir, i);
  const int64_t per_file = lines / files;
  std::vector<int64_t> written(files, 0), quota(files, per_file);
  for (int i = 0; i < lines % files; ++i) quota[i]++;
  std::vector<int> rotated(files, 0);
  static const char kAlpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_/=+()[]";
  std::string line;
  int64_t bytes = 0, done = 0;
  const int64_t start = now_ns();
  std::vector<int> live(files);
  for (int i = 0; i < files; ++i) live[i] = i;
  while (!live.empty()) {
    size_t slot = rng.below(live.size());
    int i = live[slot];
    if (rate > 0) {
      int64_t due = start + done * 1'000'000'000 / rate;
      int64_t wait = due - now_ns();
      if (wait > 0) {
        timespec ts{time_t(wait / 1'000'000'000), long(wait % 1'000'000'000)};
        nanosleep(&ts, nullptr);
      }
    }
    size_t payload = rng.below(1000) < uint64_t(big_permille) ? 300 + rng.below(8192 - 300 - 64)
                                                              : 100 + rng.below(200);
    line.clear();
    line += file_name(i);
    line += ' ';
    line += std::to_string(next[i]);
    line += " t=";
    line += std::to_string(now_ns());
    line += ' ';
    while (line.size() < payload) line += kAlpha[rng.below(sizeof kAlpha - 1)];
    char cs[16];
    std::snprintf(cs, sizeof cs, " #%08x\n", fnv(line));
    line += cs;
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fds[i], p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die(std::string("write: ") + std::strerror(errno));
      p += n;
      left -= size_t(n);
    }
    bytes += int64_t(line.size());
    ++done;
    ++next[i];
    ++written[i];
    // Rotate at k/(rotations+1) of the file's quota.
    if (rotated[i] < rotations && written[i] * (rotations + 1) >= quota[i] * (rotated[i] + 1)) {
      rotate(dir, i, fds[i], rotations);
      ++rotated[i];
    }
    if (written[i] >= quota[i]) {
      live[slot] = live.back();
      live.pop_back();
    }
  }
  for (int fd : fds) ::close(fd);
  if (!state.empty()) write_state(state, next);
  const int64_t end = now_ns();
  std::printf("{\"lines\":%" PRId64 ",\"bytes\":%" PRId64 ",\"seconds\":%.3f,\"start_ns\":%" PRId64
              ",\"end_ns\":%" PRId64 "}\n",
              done, bytes, double(end - start) / 1e9, start, end);
  (void)first;
  return 0;
}

// ---- collect ----

struct Reader {
  int64_t offset = 0;
  std::string partial;
};

struct Collect {
  int files = 10;
  std::vector<int64_t> base, next;  // expected: [base[i], next[i]) per file
  std::vector<std::vector<uint8_t>> seen;
  int64_t expected = 0, distinct = 0, dup = 0, corrupt = 0, prefixed = 0, outside = 0, lines = 0, bytes = 0;
  bool latency = false, check = true;
  std::vector<int64_t> lat_ns;
  std::vector<std::vector<int64_t>> lat_by_file;
  int64_t last_new_ns = 0;
  std::vector<int64_t> first_seen;  // per file, realtime ns of its first line seen (0 = none)
  std::vector<int64_t> last_seen;

  // Returns true if the record was found.
  void line(std::string_view l, int64_t when) {
    ++lines;
    bytes += int64_t(l.size()) + 1;
    size_t start = std::string_view::npos;
    for (size_t pos = 0; pos < l.size(); pos = l.find(' ', pos), pos = pos == std::string_view::npos ? l.size() : pos + 1) {
      if (l[pos] != 'f') continue;
      size_t j = pos + 1, d1 = j;
      while (j < l.size() && l[j] >= '0' && l[j] <= '9') ++j;
      if (j == d1 || j >= l.size() || l[j] != ' ') continue;
      size_t d2 = ++j;
      while (j < l.size() && l[j] >= '0' && l[j] <= '9') ++j;
      if (j == d2 || l.compare(j, 3, " t=") != 0) continue;
      start = pos;
      break;
    }
    if (start == std::string_view::npos) {
      ++corrupt;
      return;
    }
    if (start > 0) ++prefixed;
    std::string_view rec = l.substr(start);
    while (!rec.empty() && (rec.back() == '\r' || rec.back() == ' ')) rec.remove_suffix(1);
    int fi = std::atoi(std::string(rec.substr(1, rec.find(' ') - 1)).c_str());
    size_t sp = rec.find(' ');
    int64_t seq = std::strtoll(std::string(rec.substr(sp + 1, 24)).c_str(), nullptr, 10);
    size_t hash = rec.rfind(" #");
    if (hash == std::string_view::npos || rec.size() - hash != 10) {
      ++corrupt;
      return;
    }
    if (check) {
      uint32_t want = uint32_t(std::strtoul(std::string(rec.substr(hash + 2)).c_str(), nullptr, 16));
      if (fnv(rec.substr(0, hash)) != want) {
        ++corrupt;
        return;
      }
    }
    if (fi < 0 || fi >= files) {
      ++outside;
      return;
    }
    if (first_seen[fi] == 0) first_seen[fi] = when;
    last_seen[fi] = when;
    if (seq < base[fi] || seq >= next[fi]) {
      ++outside;
      return;
    }
    uint8_t& c = seen[fi][size_t(seq - base[fi])];
    if (c == 0) {
      ++distinct;
      last_new_ns = when;
      if (latency) {
        size_t t = rec.find(" t=");
        int64_t wrote = std::strtoll(std::string(rec.substr(t + 3, 24)).c_str(), nullptr, 10);
        lat_ns.push_back(when - wrote);
        lat_by_file[size_t(fi)].push_back(when - wrote);
      }
    } else {
      ++dup;
    }
    if (c < 255) ++c;
  }
};

void list_files(const std::string& dir, std::vector<std::string>& out, int depth = 0) {
  if (depth > 8) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string p = dir + "/" + e->d_name;
    struct stat st{};
    if (stat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) list_files(p, out, depth + 1);
    else if (S_ISREG(st.st_mode)) out.push_back(p);
  }
  closedir(d);
}

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, size_t(p * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return double(v[k]) / 1e6;
}

int collect(const std::map<std::string, std::string>& f) {
  Collect c;
  c.files = int(geti(f, "files", 10));
  const std::string dir = get(f, "dir", "");
  if (dir.empty()) die("collect needs --dir");
  c.base = read_state(get(f, "base", ""), c.files);
  c.next = read_state(get(f, "expect", ""), c.files);
  // --expect-lines N: what `gen --lines N` writes from --base on (the same quotas).
  if (const int64_t n = geti(f, "expect-lines", -1); n >= 0)
    for (int i = 0; i < c.files; ++i) c.next[i] = c.base[i] + n / c.files + (i < n % c.files ? 1 : 0);
  c.latency = f.count("latency") > 0;
  c.check = get(f, "check", "1") != "0";
  c.first_seen.assign(c.files, 0);
  c.last_seen.assign(c.files, 0);
  c.lat_by_file.resize(size_t(c.files));
  for (int i = 0; i < c.files; ++i) {
    int64_t n = std::max<int64_t>(0, c.next[i] - c.base[i]);
    c.expected += n;
    c.seen.emplace_back(size_t(n), 0);
  }
  const int64_t timeout_ms = geti(f, "timeout-ms", 0);
  const int64_t poll_us = geti(f, "poll-us", 20000);
  const int64_t rescan_ms = geti(f, "rescan-ms", 100);
  // --until-streams N: stop once N different files have shown a line (failover phases)
  const int64_t until_streams = geti(f, "until-streams", 0);
  const bool from_end = f.count("from-end") > 0;
  // --idle-ms M: give up once no new line has come for M ms (after the first one, or after start).
  const int64_t idle_ms = geti(f, "idle-ms", 0);
  const int64_t start = now_ns();
  const int64_t deadline = start + timeout_ms * 1'000'000;
  std::map<std::string, Reader> readers;
  int64_t next_rescan = 0;
  std::vector<char> buf(1 << 20);
  bool first_scan = true;
  for (;;) {
    int64_t now = now_ns();
    if (now >= next_rescan) {
      std::vector<std::string> paths;
      list_files(dir, paths);
      for (auto& p : paths) {
        if (readers.count(p)) continue;
        Reader r;
        if (from_end && first_scan) {
          struct stat st{};
          if (stat(p.c_str(), &st) == 0) r.offset = st.st_size;
        }
        readers.emplace(p, std::move(r));
      }
      first_scan = false;
      next_rescan = now + rescan_ms * 1'000'000;
    }
    for (auto& [path, r] : readers) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      for (;;) {
        ssize_t n = ::pread(fd, buf.data(), buf.size(), r.offset);
        if (n <= 0) break;
        int64_t when = now_ns();
        r.offset += n;
        std::string_view chunk(buf.data(), size_t(n));
        size_t nl;
        while ((nl = chunk.find('\n')) != std::string_view::npos) {
          if (r.partial.empty()) {
            c.line(chunk.substr(0, nl), when);
          } else {
            r.partial.append(chunk.substr(0, nl));
            c.line(r.partial, when);
            r.partial.clear();
          }
          chunk.remove_prefix(nl + 1);
        }
        r.partial.append(chunk);
        if (size_t(n) < buf.size()) break;
      }
      ::close(fd);
    }
    bool done = c.expected > 0 && c.distinct >= c.expected;
    if (until_streams > 0) {
      int64_t shown = 0;
      for (auto t : c.first_seen) shown += t != 0;
      done = shown >= until_streams;
    }
    const int64_t t = now_ns();
    if (done || t >= deadline) break;
    if (idle_ms > 0 && t - std::max(start, c.last_new_ns) > idle_ms * 1'000'000) break;
    timespec ts{time_t(poll_us / 1'000'000), long(poll_us % 1'000'000) * 1000};
    nanosleep(&ts, nullptr);
  }
  int64_t partial_lines = 0;
  for (auto& [p, r] : readers) partial_lines += !r.partial.empty();
  std::printf("{\"expected\":%" PRId64 ",\"distinct\":%" PRId64 ",\"lost\":%" PRId64 ",\"dup\":%" PRId64
              ",\"corrupt\":%" PRId64 ",\"prefixed\":%" PRId64 ",\"outside\":%" PRId64 ",\"partial_tail\":%" PRId64
              ",\"lines_read\":%" PRId64 ",\"bytes_read\":%" PRId64 ",\"complete\":%s,\"last_new_ns\":%" PRId64
              ",\"files_read\":%zu",
              c.expected, c.distinct, c.expected - c.distinct, c.dup, c.corrupt, c.prefixed, c.outside, partial_lines,
              c.lines, c.bytes, c.expected > 0 && c.distinct >= c.expected ? "true" : "false", c.last_new_ns,
              readers.size());
  if (c.latency) {
    std::printf(",\"latency_n\":%zu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f", c.lat_ns.size(),
                pct(c.lat_ns, 0.50), pct(c.lat_ns, 0.90), pct(c.lat_ns, 0.99), pct(c.lat_ns, 1.0));
    std::printf(",\"p99_by_file_ms\":[");
    for (int i = 0; i < c.files; ++i) std::printf("%s%.0f", i ? "," : "", pct(c.lat_by_file[size_t(i)], 0.99));
    std::printf("]");
  }
  std::printf(",\"first_seen_ns\":[");
  for (int i = 0; i < c.files; ++i) std::printf("%s%" PRId64, i ? "," : "", c.first_seen[i]);
  std::printf("],\"last_seen_ns\":[");
  for (int i = 0; i < c.files; ++i) std::printf("%s%" PRId64, i ? "," : "", c.last_seen[i]);
  std::printf("]}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: corral-logbench gen|collect|now [--flag value...]");
  std::string mode = argv[1];
  auto f = flags(argc, argv, 2);
  if (mode == "gen") return gen(f);
  if (mode == "collect") return collect(f);
  if (mode == "now") return std::printf("%" PRId64 "\n", now_ns()), 0;
  die("unknown mode " + mode);
}
