// The fault file system (see fault_fs.h). Every writable file opened
// through it is tracked by name: the bytes written and the bytes known
// synced. One mutex covers every tracked operation, so the power cut sees
// no write half-recorded; it is a test tool and its speed does not matter.
#include "coordinator/storage/fault_fs.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace corral::storage {

namespace {

constexpr std::string_view kFsyncFailAfter = "fsync-fail-after:";
constexpr std::string_view kPowerCutAfterMs = "power-cut-after-ms:";

struct FileState {
  uint64_t written = 0;
  uint64_t synced = 0;
};

// What the files share: the plan, the sync budget and the tracked sizes.
class FaultState {
 public:
  explicit FaultState(FaultPlan plan) : plan_(plan) {}

  std::mutex mu;
  std::map<std::string, FileState> files;  // guarded by mu

  // Whether this sync may go through; counts it (mu held).
  bool sync_allowed() {
    if (plan_.kind != FaultPlan::Kind::kFsyncFailAfter) return true;
    if (syncs_ >= plan_.count) return false;
    ++syncs_;
    return true;
  }

  // Cuts every tracked file back to its synced size and exits (mu held).
  [[noreturn]] void cut_power() {
    for (const auto& [name, state] : files) {
      if (state.written > state.synced) (void)::truncate(name.c_str(), static_cast<off_t>(state.synced));
    }
    std::fprintf(stderr, "%s: power cut: unsynced writes of %zu files dropped\n", kFaultFsEnv, files.size());
    std::fflush(stderr);
    std::_Exit(kPowerCutExitCode);
  }

 private:
  FaultPlan plan_;
  uint64_t syncs_ = 0;  // guarded by mu
};

rocksdb::IOStatus injected_sync_failure() {
  return rocksdb::IOStatus::IOError("injected fsync failure (" + std::string(kFaultFsEnv) + ")");
}

class FaultWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string name,
                    std::shared_ptr<FaultState> state)
      : FSWritableFileOwnerWrapper(std::move(file)), name_(std::move(name)), state_(std::move(state)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->Append(data, options, dbg);
    if (s.ok()) state_->files[name_].written += data.size();
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->Append(data, options, info, dbg);
    if (s.ok()) state_->files[name_].written += data.size();
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) grow_to(offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->PositionedAppend(data, offset, options, info, dbg);
    if (s.ok()) grow_to(offset + data.size());
    return s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      FileState& f = state_->files[name_];
      f.written = size;
      if (f.synced > size) f.synced = size;
    }
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return sync_with([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return sync_with([&] { return target()->Fsync(options, dbg); });
  }
  // A range sync syncs part of a file: counted as no sync at all.

 private:
  void grow_to(uint64_t end) {
    FileState& f = state_->files[name_];
    if (end > f.written) f.written = end;
  }

  template <class F>
  rocksdb::IOStatus sync_with(F&& sync) {
    std::lock_guard lock(state_->mu);
    if (!state_->sync_allowed()) return injected_sync_failure();
    auto s = sync();
    if (s.ok()) {
      FileState& f = state_->files[name_];
      f.synced = f.written;
    }
    return s;
  }

  std::string name_;
  std::shared_ptr<FaultState> state_;
};

class FaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, std::shared_ptr<FaultState> state)
      : FileSystemWrapper(base), state_(std::move(state)) {}

  static const char* kClassName() { return "CorralFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->NewWritableFile(name, options, &file, dbg);
    if (!s.ok()) return s;
    track(name, 0);
    *result = std::make_unique<FaultWritableFile>(std::move(file), name, state_);
    return s;
  }

  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    uint64_t existing = 0;
    if (!target()->GetFileSize(name, rocksdb::IOOptions(), &existing, dbg).ok()) existing = 0;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReopenWritableFile(name, options, &file, dbg);
    if (!s.ok()) return s;
    {
      // What was there before the reopen counts as synced (it was, or it
      // came from before this process).
      std::lock_guard lock(state_->mu);
      auto [it, fresh] = state_->files.try_emplace(name, FileState{existing, existing});
      (void)it;
      (void)fresh;
    }
    *result = std::make_unique<FaultWritableFile>(std::move(file), name, state_);
    return s;
  }

  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReuseWritableFile(name, old_name, options, &file, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard lock(state_->mu);
      state_->files.erase(old_name);
    }
    track(name, 0);
    *result = std::make_unique<FaultWritableFile>(std::move(file), name, state_);
    return s;
  }

  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->DeleteFile(name, options, dbg);
    if (s.ok()) state_->files.erase(name);
    return s;
  }

  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(state_->mu);
    auto s = target()->RenameFile(src, dst, options, dbg);
    if (!s.ok()) return s;
    auto it = state_->files.find(src);
    if (it == state_->files.end()) {
      state_->files.erase(dst);
    } else {
      state_->files[dst] = it->second;
      state_->files.erase(src);
    }
    return s;
  }

 private:
  void track(const std::string& name, uint64_t size) {
    std::lock_guard lock(state_->mu);
    state_->files[name] = FileState{size, size};
  }

  std::shared_ptr<FaultState> state_;
};

// Waits for the cut's time on its own thread, then takes the mutex (so no
// write is half-recorded) and cuts. Detached: the cut ends the process.
void start_power_timer(std::shared_ptr<FaultState> state, std::chrono::milliseconds after) {
  std::thread([state = std::move(state), after] {
    std::this_thread::sleep_for(after);
    state->mu.lock();
    state->cut_power();
  }).detach();
}

Result<uint64_t> parse_count(std::string_view digits, std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return make_error(ErrorCode::kBadRequest, std::string(kFaultFsEnv) + ": not a count in '" + std::string(text) + "'");
  }
  return n;
}

}  // namespace

Result<FaultPlan> parse_fault_plan(std::string_view text) {
  for (auto [prefix, kind] : {std::pair{kFsyncFailAfter, FaultPlan::Kind::kFsyncFailAfter},
                              std::pair{kPowerCutAfterMs, FaultPlan::Kind::kPowerCutAfterMs}}) {
    if (text.substr(0, prefix.size()) != prefix) continue;
    auto n = parse_count(text.substr(prefix.size()), text);
    if (!n.ok()) return n.error();
    return FaultPlan{kind, *n};
  }
  return make_error(ErrorCode::kBadRequest, std::string(kFaultFsEnv) + "='" + std::string(text) +
                                                "': expected fsync-fail-after:N or power-cut-after-ms:N");
}

Result<FaultPlan> fault_plan_from_env() {
  const char* value = std::getenv(kFaultFsEnv);
  if (value == nullptr || *value == '\0') return FaultPlan{};
  return parse_fault_plan(value);
}

std::unique_ptr<rocksdb::Env> make_fault_env(const FaultPlan& plan, std::shared_ptr<rocksdb::FileSystem> base) {
  auto state = std::make_shared<FaultState>(plan);
  std::fprintf(stderr, "%s is set: storage faults are injected (%s %llu)\n", kFaultFsEnv,
               plan.kind == FaultPlan::Kind::kFsyncFailAfter ? "syncs before failing:" : "ms before the power cut:",
               static_cast<unsigned long long>(plan.count));
  auto fs = std::make_shared<FaultFileSystem>(base, state);
  if (plan.kind == FaultPlan::Kind::kPowerCutAfterMs) {
    start_power_timer(state, std::chrono::milliseconds(plan.count));
  }
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace corral::storage
