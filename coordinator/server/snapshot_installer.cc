#include "coordinator/server/snapshot_installer.h"

#include <utility>

#include "coordinator/server/install_intent.h"
#include "coordinator/server/log.h"

namespace corral::server {

namespace {

// Writes `batch` once it reaches a chunk's bound (or `now`); flushes once
// `unflushed` bytes pass kInstallFlushBytes.
Status write_chunk(storage::Engine& engine, storage::WriteBatch& batch, bool now, size_t& unflushed) {
  if (batch.empty()) return Status();
  if (!now && batch.size_bytes() < kInstallChunkBytes && batch.count() < kInstallChunkRecords) return Status();
  unflushed += batch.size_bytes();
  auto s = engine.write_unlogged(std::move(batch));
  batch = storage::WriteBatch();
  if (s.ok() && unflushed >= kInstallFlushBytes) {
    unflushed = 0;
    s = engine.flush();
  }
  return s;
}

Error stopped() { return make_error(ErrorCode::kUnavailable, "snapshot install stopped"); }

}  // namespace

Status load_state_image(storage::Engine& engine, const std::vector<ImageRecord>& records,
                        const std::atomic<bool>* cancel) {
  const auto cancelled = [cancel] { return cancel && cancel->load(); };
  storage::WriteBatch batch;
  size_t unflushed = 0;
  for (storage::Space space : kImageSpaces) {
    auto it = engine.scan(space, "", "");
    for (; it->valid(); it->next()) {
      batch.del(space, it->key());
      if (auto s = write_chunk(engine, batch, false, unflushed); !s.ok()) return s;
      if (cancelled()) return stopped();
    }
    if (!it->status().ok()) return it->status();
  }
  // Every delete lands before the puts (a key may be in both).
  if (auto s = write_chunk(engine, batch, true, unflushed); !s.ok()) return s;
  for (const ImageRecord& rec : records) {
    batch.put(rec.space, rec.key, rec.value);
    if (auto s = write_chunk(engine, batch, false, unflushed); !s.ok()) return s;
    if (cancelled()) return stopped();
  }
  return write_chunk(engine, batch, true, unflushed);
}

Status commit_install(storage::Engine& engine, storage::RaftLogStore& store, const raft::SnapshotMetadata& meta) {
  storage::WriteBatch batch;
  if (auto s = store.stage_apply_snapshot(batch, meta); !s.ok()) {
    store.abandon_staged();
    return s;
  }
  auto w = engine.write(std::move(batch), true);
  if (!w.ok()) {
    store.abandon_staged();
    return w;
  }
  store.on_written();
  return Status();
}

Status finish_interrupted_install(storage::Engine& engine, storage::RaftLogStore& store, const std::string& path) {
  auto intent = read_install_intent(path);
  if (!intent.ok()) {
    if (intent.error().code == ErrorCode::kNotFound) return Status();
    // A whole file was renamed into place: a broken one is a damaged disk,
    // and the state may be half installed.
    return make_error(ErrorCode::kStorage, "an interrupted snapshot install cannot be finished: " +
                                               intent.error().message);
  }
  const raft::Index index = intent->meta.index;
  if (store.snapshot_metadata().index <= index) {
    auto records = parse_state_image(intent->image);
    if (!records.ok()) {
      return make_error(ErrorCode::kStorage, "install intent " + path + ": " + records.error().message);
    }
    auto s = load_state_image(engine, *records, nullptr);
    if (s.ok()) s = engine.flush();
    if (s.ok() && store.snapshot_metadata().index < index) s = commit_install(engine, store, intent->meta);
    if (!s.ok()) return make_error(ErrorCode::kStorage, "finishing the snapshot install at " +
                                                            std::to_string(index) + ": " + s.error().message);
    log_event("finished the snapshot install at index %llu that a stop interrupted",
              static_cast<unsigned long long>(index));
  }
  return remove_install_intent(path);
}

SnapshotInstaller::SnapshotInstaller(storage::Engine& engine, std::string intent_path, std::function<void()> wake)
    : engine_(engine), intent_path_(std::move(intent_path)), wake_(std::move(wake)) {
  thread_ = std::thread([this] { run(); });
}

SnapshotInstaller::~SnapshotInstaller() {
  cancel_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool SnapshotInstaller::start(const raft::SnapshotMetadata& meta, std::string image) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ || job_meta_ || reported_loaded_) return false;
    job_meta_ = meta;
    job_image_ = std::move(image);
  }
  cv_.notify_all();
  return true;
}

bool SnapshotInstaller::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ || job_meta_.has_value() || reported_loaded_;
}

std::vector<SnapshotInstaller::Done> SnapshotInstaller::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Done> out = std::move(done_);
  done_.clear();
  reported_loaded_ = false;
  return out;
}

void SnapshotInstaller::forget_intent() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    remove_intent_ = true;
  }
  cv_.notify_all();
}

void SnapshotInstaller::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || job_meta_ || remove_intent_; });
    if (stop_) return;
    if (remove_intent_) {
      remove_intent_ = false;
      lock.unlock();
      // Left behind, the next start removes it (the store holds the snapshot).
      if (!intent_path_.empty()) {
        if (auto s = remove_install_intent(intent_path_); !s.ok()) {
          log_warn("snapshot install intent: %s", s.error().message.c_str());
        }
      }
      lock.lock();
      continue;
    }
    const raft::SnapshotMetadata meta = *job_meta_;
    std::string image = std::move(job_image_);
    job_meta_.reset();
    job_image_.clear();
    running_ = true;
    lock.unlock();
    Status s = install(meta, image);
    image.clear();
    image.shrink_to_fit();  // up to 1 GiB: not kept until the next install
    std::optional<StateMachine::Prepared> prepared;
    if (s.ok()) {
      auto p = StateMachine::prepare_reload(engine_);
      if (p.ok()) {
        prepared = std::move(p).value();
      } else {
        s = make_error(ErrorCode::kStorage, "reading the installed state: " + p.error().message);
      }
    }
    lock.lock();
    running_ = false;
    done_.push_back(Done{Done::Stage::kLoaded, meta, std::move(s), std::move(prepared)});
    reported_loaded_ = true;
    lock.unlock();
    wake_();
    lock.lock();
  }
}

Status SnapshotInstaller::install(const raft::SnapshotMetadata& meta, const std::string& image) {
  // The whole image is checked first: a broken one changes nothing.
  auto records = parse_state_image(image);
  if (!records.ok()) return records.error();
  if (!intent_path_.empty()) {
    if (auto s = write_install_intent(intent_path_, meta, image); !s.ok()) return s;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(Done{Done::Stage::kIntentWritten, meta, Status(), std::nullopt});
  }
  wake_();
  if (auto s = load_state_image(engine_, *records, &cancel_); !s.ok()) return s;
  return engine_.flush();
}

}  // namespace corral::server
