#include "sim/disk_fault.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace tapstack::sim {

// The real log file with DiskFault consulted before every write and sync. It remembers what each
// write since the last good sync overwrote, so that kLost can put it back.
class FaultyLogFile final : public ledger::LogFile {
 public:
  FaultyLogFile(std::unique_ptr<ledger::LogFile> real, std::shared_ptr<DiskFault> fault)
      : real_(std::move(real)), fault_(std::move(fault)) {}

  Result<std::uint64_t> Size() override { return real_->Size(); }
  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    return real_->ReadAt(offset, out);
  }
  const std::string& name() const override { return real_->name(); }

  Status WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    std::lock_guard lock(mu_);
    TS_RETURN_IF_ERROR(Fail(fault_->Check(DiskFailure::kWrite), "write"));
    // What the write replaces: the old bytes, and zeros past the end (the ledger reads zeros there
    // as never written, as it reads its preallocated tail).
    Undo undo{offset, std::vector<std::uint8_t>(data.size(), 0)};
    TS_ASSIGN_OR_RETURN(std::uint64_t size, real_->Size());
    if (offset < size) {
      const auto overlap =
          static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, data.size()));
      TS_ASSIGN_OR_RETURN(std::size_t read,
                          real_->ReadAt(offset, std::span(undo.old_bytes).first(overlap)));
      if (read != overlap)
        return IoError(name() + ": short read while saving the bytes a write replaces");
    }
    TS_RETURN_IF_ERROR(real_->WriteAt(offset, data));
    unsynced_.push_back(std::move(undo));
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard lock(mu_);
    TS_RETURN_IF_ERROR(Fail(fault_->Check(DiskFailure::kSync), "fdatasync"));
    TS_RETURN_IF_ERROR(real_->Sync());
    unsynced_.clear();
    return Status::Ok();
  }

 private:
  struct Undo {
    std::uint64_t offset = 0;
    std::vector<std::uint8_t> old_bytes;
  };

  // Carries out a failing verdict: kIoError, after putting back the unsynced writes for kLost.
  Status Fail(DiskFault::Verdict verdict, const char* operation) {
    if (verdict == DiskFault::Verdict::kPass) return Status::Ok();
    if (verdict == DiskFault::Verdict::kFailAndLose) {
      for (auto it = unsynced_.rbegin(); it != unsynced_.rend(); ++it) {
        TS_RETURN_IF_ERROR(real_->WriteAt(it->offset, it->old_bytes));
      }
      TS_RETURN_IF_ERROR(real_->Sync());
    }
    unsynced_.clear();
    return IoError(name() + ": simulated disk failure (" + operation + ")");
  }

  std::unique_ptr<ledger::LogFile> real_;
  std::shared_ptr<DiskFault> fault_;
  std::mutex mu_;               // the ledger's committer and syncer threads both write
  std::vector<Undo> unsynced_;  // oldest first
};

ledger::LogFileOpener DiskFault::Opener() {
  return [self = shared_from_this()](
             const std::filesystem::path& path,
             ledger::LogFileMode mode) -> Result<std::unique_ptr<ledger::LogFile>> {
    TS_ASSIGN_OR_RETURN(auto real, ledger::OpenPosixLogFile(path, mode));
    return std::unique_ptr<ledger::LogFile>(std::make_unique<FaultyLogFile>(std::move(real), self));
  };
}

store::FaultHook DiskFault::SqliteHook(std::shared_ptr<std::atomic<bool>> failed) {
  return [self = shared_from_this(), failed = std::move(failed)](store::FileOperation operation) {
    switch (self->Check(operation == store::FileOperation::kWrite ? DiskFailure::kWrite : DiskFailure::kSync)) {
      case Verdict::kPass:
        return store::FaultVerdict::kPass;
      case Verdict::kFail:
        failed->store(true);
        return store::FaultVerdict::kFail;
      case Verdict::kFailAndLose:
        failed->store(true);
        return store::FaultVerdict::kFailAndLose;
    }
    return store::FaultVerdict::kPass;
  };
}

void DiskFault::Arm(DiskFailure failure, DiskAftermath aftermath) {
  std::lock_guard lock(mu_);
  armed_ = true;
  triggered_ = false;
  failure_ = failure;
  aftermath_ = aftermath;
}

void DiskFault::Disarm() {
  std::lock_guard lock(mu_);
  armed_ = triggered_ = false;
}

bool DiskFault::triggered() const {
  std::lock_guard lock(mu_);
  return triggered_;
}

DiskFault::Verdict DiskFault::Check(DiskFailure operation) {
  std::lock_guard lock(mu_);
  if (!armed_ || operation != failure_) return Verdict::kPass;
  armed_ = false;
  triggered_ = true;
  return aftermath_ == DiskAftermath::kLost ? Verdict::kFailAndLose : Verdict::kFail;
}

}  // namespace tapstack::sim
