// Helpers of the log-collection torture test (collection_torture_test.cc):
// corral-agent processes, the log writers that play the applications, and
// the check of the collectors' sink files against what was written.
//
// Lines. Stream `name` (e.g. "rn@10.0.0.1") writes lines
//   <name> <seq> <payload>\n
// with seq = 0, 1, 2, ... and a payload that is a pure function of
// (seed, name, seq): 1..8192 bytes of [a-z0-9], mostly short. So every line
// in a sink can be checked byte for byte without keeping what was written.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"

namespace corral::fault::torture {

using Clock = std::chrono::steady_clock;

// The corral-agent binary, set by CMake (CORRAL_AGENT_PATH).
std::string agent_path();

// A port free on 127.0.0.1 now: the cluster harness's next_free_port(), so
// that agents and members never draw the same port.
int free_port();

uint64_t mix64(uint64_t x);
std::string payload_of(uint64_t seed, const std::string& stream, uint64_t seq);
std::string line_of(uint64_t seed, const std::string& stream, uint64_t seq);

// One corral-agent process: its arguments, its log, start/kill/pause.
class Agent {
 public:
  Agent(std::string id, bool source, std::vector<std::string> args, std::string log_path);
  // Starts the process and waits (bounded) until its log shows it ready:
  // a source serving and registered; a collector writing to its sink. A
  // start that exits is retried (bounded); throws std::runtime_error when
  // it never gets ready.
  void start();
  void kill9();
  void pause();
  void resume();
  bool running() { return process_.valid() && !process_.poll(); }
  pid_t pid() const { return process_.pid(); }
  const std::string& id() const { return id_; }
  const std::string& log_path() const { return log_path_; }
  int starts() const { return starts_; }

 private:
  std::string id_;
  bool source_;
  std::vector<std::string> args_;
  std::string log_path_;
  integration::Process process_;
  int starts_ = 0;
};

// Plays an application writing one stream's log file, with rotations.
// Every write, rotation and copytruncate holds mu, so the test can pause a
// stream (copytruncate) by taking it.
struct StreamWriter {
  enum class Shape : uint8_t {
    kRenameUnmatched,  // glob DIR/current.log; rotated to current.log.N (not matched)
    kRenameMatched,    // glob DIR/access.log*; rotated to access.log.N (matched)
  };
  StreamWriter(uint64_t seed, std::string ip, std::string topic, std::string dir, Shape shape);
  ~StreamWriter();

  std::string name() const { return topic + "@" + ip; }  // in every line
  std::string glob() const;
  std::string current_path() const;

  // Appends line `next_seq` (one write(2) of the whole line). Rotation: once
  // the file passed rotate_bytes (and rotation is not held), the file is
  // renamed, 0..20 more lines still go to it through the open fd (an
  // application that reopens its log a little later, as after logrotate's
  // postrotate signal), then the application reopens a new file.
  void write_one();
  // Finishes a pending reopen, copies the file, truncates it in place; the
  // caller holds mu (writes paused).
  void copytruncate_locked();
  void reopen_locked();

  uint64_t seed;
  std::string ip, topic, dir;
  Shape shape;
  uint64_t rotate_bytes = 256 * 1024;

  std::mutex mu;
  int fd = -1;
  uint64_t file_bytes = 0;
  std::atomic<uint64_t> next_seq{0};         // lines written
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> rotated_lines{0};    // lines in files renamed away and reopened from
  std::atomic<int> renames{0};
  std::atomic<int> copytruncates{0};
  std::atomic<bool> hold_rotation{false};
  std::atomic<bool> reopen_pending{false};  // renamed; still writing to the renamed file
  uint64_t late_lines_left = 0;
  std::atomic<uint64_t> late_after_rename{0};  // lines written to files already renamed
};

// What the sinks hold for one stream.
struct StreamTally {
  std::string name;
  uint64_t written = 0;
  uint64_t delivered = 0;    // lines in sinks that parse and match
  uint64_t lost = 0;         // seqs in [0, written) in no sink
  uint64_t duplicated = 0;   // copies beyond the first
  uint64_t corrupt = 0;      // lines that do not parse or do not match (incl. a partial last line)
  uint64_t duplicated_bytes = 0;
  uint64_t rewinds = 0;      // within a sink file, a seq <= the one before (re-delivery)
  uint64_t skips = 0;        // within a sink file, a seq > the one before + 1 (was elsewhere)
  uint64_t files = 0;        // sink files holding it
  std::vector<std::string> problems;  // the first few, for people
  std::vector<std::string> rewind_notes;  // the first few rewinds: file, from seq, to seq
};

// Reads every sink file "<sink_dir>/<app>/<topic>/<ip>.log" of every sink dir
// and tallies each stream of `written` (name -> lines written).
std::map<std::string, StreamTally> tally_sinks(uint64_t seed, const std::vector<std::string>& sink_dirs,
                                               const std::string& app,
                                               const std::map<std::string, uint64_t>& written);

}  // namespace corral::fault::torture
