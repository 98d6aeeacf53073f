#include "ledger/ledger.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <system_error>
#include <thread>

namespace tapstack::ledger {

namespace {

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > 63) {
    return InvalidArgument("ledger name: expected 1 to 63 characters");
  }
  if (name[0] < 'a' || name[0] > 'z') {
    return InvalidArgument("ledger name: must start with a letter a-z");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return InvalidArgument("ledger name: only a-z, 0-9 and _ are allowed");
  }
  return Status::Ok();
}

template <typename T>
std::span<const std::uint8_t> AsByteSpan(std::span<T> values) {
  return {reinterpret_cast<const std::uint8_t*>(values.data()), values.size_bytes()};
}

Checksum ExpireDigest(std::uint64_t expired) {
  return ResultsDigest({reinterpret_cast<const std::uint8_t*>(&expired), sizeof(expired)});
}

// Applies one logged batch to `state` during replay and checks its results against the digest
// that was logged with it.
class Replayer {
 public:
  Replayer(StateMachine& state, std::uint64_t accounts_max, std::uint64_t transfers_max)
      : state_(state), accounts_max_(accounts_max), transfers_max_(transfers_max) {}

  Status Apply(const BatchView& batch) {
    const std::string where = "log batch " + std::to_string(batch.sequence);
    if (batch.timestamp <= state_.last_timestamp()) {
      return Corruption(where + ": timestamp does not increase");
    }
    if (batch.event_count > kBatchEventsMax ||
        batch.timestamp + batch.event_count < batch.timestamp) {
      return Corruption(where + ": too many events");
    }
    Checksum digest{};
    switch (batch.kind) {
      case BatchKind::kAccounts: {
        if (state_.account_count() + batch.event_count > accounts_max_) {
          return OutOfRange(where + ": the log holds more accounts than accounts_max");
        }
        accounts_.resize(batch.event_count);
        account_results_.resize(batch.event_count);
        std::memcpy(accounts_.data(), batch.body.data(), batch.body.size());
        state_.CreateAccounts(accounts_, batch.timestamp, account_results_);
        digest = ResultsDigest(AsByteSpan(std::span(account_results_)));
        break;
      }
      case BatchKind::kTransfers: {
        if (state_.transfer_count() + state_.failure_count() + batch.event_count > transfers_max_) {
          return OutOfRange(where + ": the log holds more transfers than transfers_max");
        }
        transfers_.resize(batch.event_count);
        transfer_results_.resize(batch.event_count);
        std::memcpy(transfers_.data(), batch.body.data(), batch.body.size());
        state_.CreateTransfers(transfers_, batch.timestamp, transfer_results_);
        digest = ResultsDigest(AsByteSpan(std::span(transfer_results_)));
        break;
      }
      case BatchKind::kExpire:
        digest = ExpireDigest(state_.ExpirePending(batch.timestamp, batch.expire_limit));
        break;
      case BatchKind::kPadding:
        return Status::Ok();
    }
    if (digest != batch.results_digest) {
      return Internal(where + ": replay gave different results than when it was first applied");
    }
    return Status::Ok();
  }

 private:
  StateMachine& state_;
  std::uint64_t accounts_max_;
  std::uint64_t transfers_max_;
  std::vector<Account> accounts_;
  std::vector<CreateAccountResult> account_results_;
  std::vector<Transfer> transfers_;
  std::vector<CreateTransferResult> transfer_results_;
};

}  // namespace

std::filesystem::path LedgerLogPath(const std::filesystem::path& data_dir, std::string_view name) {
  return data_dir / (std::string(name) + ".wal");
}

struct Ledger::Impl {
  struct Request {
    enum class Kind { kAccounts, kTransfers, kExpire, kAudit };
    Kind kind = Kind::kTransfers;
    std::span<const Account> accounts;
    std::span<CreateAccountResult> account_results;
    std::span<const Transfer> transfers;
    std::span<CreateTransferResult> transfer_results;
    std::uint64_t expired = 0;            // kExpire
    AuditReport* audit_report = nullptr;  // kAudit
    bool verify_log = false;              // kAudit
    Status status;
    std::binary_semaphore done{0};

    std::size_t event_count() const {
      return kind == Kind::kAccounts ? accounts.size() : transfers.size();
    }
  };

  // A group being built by the committer or synced by the syncer.
  struct Group {
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;
    std::uint64_t batches = 0;
    std::span<const std::uint8_t> bytes;
    std::vector<Request*> requests;
  };

  LedgerOptions options;
  std::filesystem::path path;
  const Clock* clock = nullptr;
  std::unique_ptr<LogFile> file;
  RecoveryReport recovery;

  // The state: written by the committer only (exclusive lock), read by look-ups (shared lock).
  std::shared_mutex state_mu;
  StateMachine state;
  std::uint64_t last_changed_group_seq = 0;  // guarded by state_mu

  // Everything below is guarded by mu.
  std::mutex mu;
  std::condition_variable work_cv;     // committer: requests, syncer idle, stop
  std::condition_variable space_cv;    // callers: room in the queue
  std::condition_variable sync_cv;     // syncer: a group handed off, committer gone
  std::condition_variable durable_cv;  // readers: durable_group_seq moved, failure
  std::deque<Request*> queue;
  std::optional<Group> handoff;
  bool syncer_busy = false;
  bool stopping = false;
  bool committer_exited = false;
  bool closed = false;
  Status failed;  // sticky
  std::uint64_t durable_group_seq = 0;
  std::uint64_t durable_end_offset = 0;
  LedgerStats stats;

  // Committer-only.
  std::unique_ptr<GroupEncoder> encoders[2];
  int building = 0;
  std::uint64_t next_group_seq = 0;
  std::uint64_t next_offset = 0;
  std::uint64_t next_sequence = 1;
  Checksum last_checksum{};
  std::unique_ptr<LogWriter> writer;  // syncer-only after start

  std::thread committer;
  std::thread syncer;

  std::uint64_t NowTimestamp() const {
    const std::int64_t millis = clock->NowUnixMillis();
    return millis <= 0 ? 0 : static_cast<std::uint64_t>(millis) * 1'000'000;
  }

  // Next request timestamp. Caller holds state_mu exclusively.
  std::uint64_t NextTimestamp() const {
    return std::max(NowTimestamp(), state.last_timestamp() + 1);
  }

  bool Fits(const GroupEncoder& encoder, const Request& request) const {
    return encoder.HasRoom(request.event_count());
  }

  bool LogHasRoom(const GroupEncoder& encoder, const Request& request) const {
    // The group's size after this batch (+ its header) and padding, rounded up to the block.
    const std::uint64_t bytes = encoder.size_bytes() + (request.event_count() + 2) * kRecordBytes;
    const std::uint64_t padded = (bytes + kLogBlockBytes - 1) / kLogBlockBytes * kLogBlockBytes;
    return encoder.offset() + padded <= options.log_bytes_max;
  }

  // ---- the committer ----

  // Applies `request` into the group. Called without mu.
  void Apply(Request& request, GroupEncoder& encoder, Group& group) {
    std::unique_lock state_lock(state_mu);
    bool changed = false;
    std::uint64_t timestamp = 0;
    switch (request.kind) {
      case Request::Kind::kAccounts:
        if (state.account_count() + request.accounts.size() > options.accounts_max) {
          request.status = OutOfRange("ledger full: accounts_max (" +
                                      std::to_string(options.accounts_max) + ") reached");
          break;
        }
        timestamp = NextTimestamp();
        changed = state.CreateAccounts(request.accounts, timestamp, request.account_results);
        break;
      case Request::Kind::kTransfers:
        if (state.transfer_count() + state.failure_count() + request.transfers.size() >
            options.transfers_max) {
          request.status = OutOfRange("ledger full: transfers_max (" +
                                      std::to_string(options.transfers_max) + ") reached");
          break;
        }
        timestamp = NextTimestamp();
        changed = state.CreateTransfers(request.transfers, timestamp, request.transfer_results);
        break;
      case Request::Kind::kExpire:
        timestamp = NextTimestamp();
        request.expired = state.ExpirePending(timestamp, kExpireBatchMax);
        changed = request.expired > 0;
        break;
      case Request::Kind::kAudit:
        break;  // run by the committer loop itself
    }
    if (changed) last_changed_group_seq = group.seq;
    state_lock.unlock();
    group.requests.push_back(&request);
    if (!changed) return;
    switch (request.kind) {
      case Request::Kind::kAccounts:
        encoder.AddBatch(BatchKind::kAccounts, timestamp, 0, AsByteSpan(request.accounts),
                         static_cast<std::uint32_t>(request.accounts.size()),
                         ResultsDigest(AsByteSpan(request.account_results)));
        break;
      case Request::Kind::kTransfers:
        encoder.AddBatch(BatchKind::kTransfers, timestamp, 0, AsByteSpan(request.transfers),
                         static_cast<std::uint32_t>(request.transfers.size()),
                         ResultsDigest(AsByteSpan(request.transfer_results)));
        break;
      case Request::Kind::kExpire:
        encoder.AddBatch(BatchKind::kExpire, timestamp, kExpireBatchMax, {}, 0,
                         ExpireDigest(request.expired));
        break;
      case Request::Kind::kAudit:
        break;
    }
    ++group.batches;
  }

  // The automatic sweep at the start of a group. Called without mu.
  void SweepIfDue(GroupEncoder& encoder, Group& group) {
    if (options.expire_pending_interval_ms <= 0) return;
    std::unique_lock state_lock(state_mu);
    const std::optional<std::uint64_t> next = state.NextExpiry();
    const std::uint64_t now = NowTimestamp();
    if (!next.has_value() || *next > now) return;
    const std::uint64_t timestamp = NextTimestamp();
    const std::uint64_t expired = state.ExpirePending(timestamp, kExpireBatchMax);
    if (expired == 0) return;
    last_changed_group_seq = group.seq;
    state_lock.unlock();
    encoder.AddBatch(BatchKind::kExpire, timestamp, kExpireBatchMax, {}, 0, ExpireDigest(expired));
    ++group.batches;
    std::lock_guard lock(mu);
    stats.holds_expired += expired;
  }

  // Runs an audit request. Called without mu, with every earlier group durable.
  void RunAudit(Request& request, std::uint64_t durable_end) {
    std::shared_lock state_lock(state_mu);
    request.status = ledger::Audit(state, request.audit_report);
    if (!request.status.ok() || !request.verify_log) return;
    StateMachine replayed;
    Replayer replayer(replayed, options.accounts_max, options.transfers_max);
    RecoveryOptions recovery_options;
    recovery_options.torn_tail = TornTail::kFail;
    recovery_options.read_limit = durable_end;
    recovery_options.initialize_if_empty = false;
    RecoveryReport report;
    request.status = RecoverLog(
        *file, recovery_options, [&replayer](const BatchView& b) { return replayer.Apply(b); },
        &report);
    if (!request.status.ok()) {
      request.status = request.status.WithContext("audit: re-reading the log");
      return;
    }
    if (replayed.Digest() != state.Digest()) {
      request.status =
          Internal("audit: the state replayed from the log differs from the state in memory");
    }
  }

  void CommitterLoop() {
    std::unique_lock lock(mu);
    bool group_open = false;
    Group group;
    const auto sweep_interval = std::chrono::milliseconds(options.expire_pending_interval_ms);
    for (;;) {
      if (!group_open) {
        if (options.expire_pending_interval_ms > 0) {
          work_cv.wait_for(lock, sweep_interval, [&] { return !queue.empty() || stopping; });
        } else {
          work_cv.wait(lock, [&] { return !queue.empty() || stopping; });
        }
        if (queue.empty() && stopping) break;
        if (!queue.empty() && queue.front()->kind == Request::Kind::kAudit) {
          // Audits see a state that is wholly durable and that nothing changes while they run.
          work_cv.wait(lock, [&] { return !syncer_busy && !handoff.has_value(); });
          Request* audit = queue.front();
          queue.pop_front();
          space_cv.notify_one();
          const std::uint64_t durable_end = durable_end_offset;
          const Status failure = failed;
          lock.unlock();
          if (failure.ok()) {
            RunAudit(*audit, durable_end);
          } else {
            audit->status = failure;
          }
          audit->done.release();
          lock.lock();
          continue;
        }
        group = Group{};
        group.seq = ++next_group_seq;
        group.offset = next_offset;
        encoders[building]->Begin(next_offset, next_sequence, last_checksum);
        group_open = true;
        lock.unlock();
        SweepIfDue(*encoders[building], group);
        lock.lock();
      }
      GroupEncoder& encoder = *encoders[building];

      // Take every request that fits into this group.
      std::vector<Request*> taken;
      while (!queue.empty() && queue.front()->kind != Request::Kind::kAudit &&
             Fits(encoder, *queue.front())) {
        Request* request = queue.front();
        queue.pop_front();
        if (!LogHasRoom(encoder, *request)) {
          request->status = OutOfRange("ledger log full: log_bytes_max (" +
                                       std::to_string(options.log_bytes_max) + ") reached");
          request->done.release();
          continue;
        }
        taken.push_back(request);
      }
      if (!taken.empty()) {
        space_cv.notify_all();
        lock.unlock();
        for (Request* request : taken) Apply(*request, encoder, group);
        lock.lock();
        continue;
      }

      // Nothing to take: hand the group to the syncer as soon as it is idle; until then keep
      // accumulating requests that fit.
      if (!syncer_busy && !handoff.has_value()) {
        if (!group.requests.empty() || group.batches > 0) {
          group.bytes = encoder.Finish();
          next_offset += group.bytes.size();
          next_sequence = encoder.next_sequence();
          last_checksum = encoder.last_checksum();
          handoff = std::move(group);
          building = 1 - building;
          sync_cv.notify_one();
        }
        group_open = false;
        continue;
      }
      work_cv.wait(lock, [&] {
        const bool can_take = !queue.empty() && queue.front()->kind != Request::Kind::kAudit &&
                              Fits(encoder, *queue.front());
        return can_take || (!syncer_busy && !handoff.has_value());
      });
    }
    committer_exited = true;
    sync_cv.notify_all();
  }

  // ---- the syncer ----

  void SyncerLoop() {
    std::unique_lock lock(mu);
    for (;;) {
      sync_cv.wait(lock, [&] { return handoff.has_value() || committer_exited; });
      if (!handoff.has_value()) break;
      Group group = std::move(*handoff);
      handoff.reset();
      syncer_busy = true;
      Status status = failed;
      lock.unlock();
      if (status.ok()) {
        status = writer->WriteGroup(group.offset, group.bytes);
        if (!status.ok())
          status = status.WithContext("ledger log write failed (reopen the ledger)");
      }
      lock.lock();
      if (status.ok()) {
        durable_group_seq = group.seq;
        durable_end_offset = group.offset + group.bytes.size();
        if (!group.bytes.empty()) ++stats.groups_synced;
        stats.batches_logged += group.batches;
        stats.bytes_logged += group.bytes.size();
      } else if (failed.ok()) {
        failed = status;
      }
      stats.requests += group.requests.size();
      syncer_busy = false;
      work_cv.notify_all();
      durable_cv.notify_all();
      lock.unlock();
      for (Request* request : group.requests) {
        if (!status.ok()) request->status = status;
        request->done.release();  // `request` may be gone after this
      }
      lock.lock();
    }
  }

  // ---- callers ----

  Status Submit(Request& request) {
    {
      std::unique_lock lock(mu);
      if (closed || stopping) return FailedPrecondition("ledger is closed");
      if (!failed.ok()) return failed;
      space_cv.wait(lock, [&] { return queue.size() < kQueuedRequestsMax || stopping; });
      if (stopping) return FailedPrecondition("ledger is closed");
      queue.push_back(&request);
      work_cv.notify_one();
    }
    request.done.acquire();
    return request.status;
  }

  Status CheckReadable() {
    std::lock_guard lock(mu);
    if (closed) return FailedPrecondition("ledger is closed");
    return failed;
  }

  Status WaitDurable(std::uint64_t group_seq) {
    std::unique_lock lock(mu);
    durable_cv.wait(lock, [&] { return durable_group_seq >= group_seq || !failed.ok(); });
    return failed;
  }

  template <typename T, typename Read>
  Result<T> ReadDurable(const Read& read) {
    TS_RETURN_IF_ERROR(CheckReadable());
    T value;
    std::uint64_t group_seq = 0;
    {
      std::shared_lock state_lock(state_mu);
      value = read();
      group_seq = last_changed_group_seq;
    }
    TS_RETURN_IF_ERROR(WaitDurable(group_seq));
    return value;
  }

  Status CheckWritable(std::size_t events, std::size_t results) const {
    if (options.read_only) return FailedPrecondition("ledger is open read-only");
    if (events > kBatchEventsMax) {
      return InvalidArgument("too many events: " + std::to_string(events) + " > " +
                             std::to_string(kBatchEventsMax));
    }
    if (events != results) return InvalidArgument("results must have one entry per event");
    return Status::Ok();
  }

  Status Close() {
    {
      std::lock_guard lock(mu);
      if (closed) return failed;
      stopping = true;
      work_cv.notify_all();
      space_cv.notify_all();
    }
    if (committer.joinable()) committer.join();
    {
      std::lock_guard lock(mu);
      committer_exited = true;
      sync_cv.notify_all();
    }
    if (syncer.joinable()) syncer.join();
    std::lock_guard lock(mu);
    closed = true;
    durable_cv.notify_all();
    file.reset();
    return failed;
  }
};

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ledger::~Ledger() { (void)Close(); }

Result<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options) {
  TS_RETURN_IF_ERROR(CheckName(options.name));
  if (options.data_dir.empty()) return InvalidArgument("ledger data_dir is empty");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.group_bytes_max = std::max(options.group_bytes_max, GroupEncoder::kGroupBytesMin);
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  impl->path = LedgerLogPath(options.data_dir, options.name);
  if (!options.read_only && !options.open_file) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) return IoError("create " + options.data_dir.string() + ": " + ec.message());
  }
  const LogFileOpener& opener =
      options.open_file ? options.open_file : LogFileOpener(OpenPosixLogFile);
  TS_ASSIGN_OR_RETURN(impl->file, opener(impl->path, options.read_only ? LogFileMode::kReadOnly
                                                                       : LogFileMode::kReadWrite));

  RecoveryOptions recovery_options;
  recovery_options.torn_tail = options.read_only ? TornTail::kIgnore : options.torn_tail;
  recovery_options.initialize_if_empty = !options.read_only;
  recovery_options.created_unix_ms =
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, impl->clock->NowUnixMillis()));
  recovery_options.preallocate_bytes = options.log_preallocate_bytes;
  Replayer replayer(impl->state, options.accounts_max, options.transfers_max);
  TS_RETURN_IF_ERROR(RecoverLog(
      *impl->file, recovery_options, [&replayer](const BatchView& b) { return replayer.Apply(b); },
      &impl->recovery));

  impl->durable_end_offset = impl->recovery.end_offset;
  if (!options.read_only) {
    impl->next_offset = impl->recovery.end_offset;
    impl->next_sequence = impl->recovery.last_sequence + 1;
    impl->last_checksum = impl->recovery.last_checksum;
    impl->writer =
        std::make_unique<LogWriter>(impl->file.get(), impl->recovery.file_bytes,
                                    options.log_preallocate_bytes, options.log_bytes_max);
    impl->encoders[0] = std::make_unique<GroupEncoder>(impl->options.group_bytes_max);
    impl->encoders[1] = std::make_unique<GroupEncoder>(impl->options.group_bytes_max);
    Impl* raw = impl.get();
    impl->syncer = std::thread([raw] { raw->SyncerLoop(); });
    impl->committer = std::thread([raw] { raw->CommitterLoop(); });
  }
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Status Ledger::Close() { return impl_->Close(); }

Status Ledger::CreateAccounts(std::span<const Account> accounts,
                              std::span<CreateAccountResult> results) {
  TS_RETURN_IF_ERROR(impl_->CheckWritable(accounts.size(), results.size()));
  Impl::Request request;
  request.kind = Impl::Request::Kind::kAccounts;
  request.accounts = accounts;
  request.account_results = results;
  return impl_->Submit(request);
}

Status Ledger::CreateTransfers(std::span<const Transfer> transfers,
                               std::span<CreateTransferResult> results) {
  TS_RETURN_IF_ERROR(impl_->CheckWritable(transfers.size(), results.size()));
  Impl::Request request;
  request.kind = Impl::Request::Kind::kTransfers;
  request.transfers = transfers;
  request.transfer_results = results;
  return impl_->Submit(request);
}

Result<std::vector<CreateAccountResult>> Ledger::CreateAccounts(std::span<const Account> accounts) {
  std::vector<CreateAccountResult> results(accounts.size());
  TS_RETURN_IF_ERROR(CreateAccounts(accounts, results));
  return results;
}

Result<std::vector<CreateTransferResult>> Ledger::CreateTransfers(
    std::span<const Transfer> transfers) {
  std::vector<CreateTransferResult> results(transfers.size());
  TS_RETURN_IF_ERROR(CreateTransfers(transfers, results));
  return results;
}

Result<std::uint64_t> Ledger::ExpirePending() {
  TS_RETURN_IF_ERROR(impl_->CheckWritable(0, 0));
  Impl::Request request;
  request.kind = Impl::Request::Kind::kExpire;
  TS_RETURN_IF_ERROR(impl_->Submit(request));
  {
    std::lock_guard lock(impl_->mu);
    impl_->stats.holds_expired += request.expired;
  }
  return request.expired;
}

Result<std::optional<Account>> Ledger::LookupAccount(Id128 id) {
  return impl_->ReadDurable<std::optional<Account>>([&]() -> std::optional<Account> {
    const Account* account = impl_->state.FindAccount(id);
    if (account == nullptr) return std::nullopt;
    return *account;
  });
}

Result<std::optional<TransferRecord>> Ledger::LookupTransfer(Id128 id) {
  return impl_->ReadDurable<std::optional<TransferRecord>>(
      [&] { return impl_->state.FindTransfer(id); });
}

Result<std::optional<CreateTransferResult>> Ledger::LookupTransferFailure(Id128 id) {
  return impl_->ReadDurable<std::optional<CreateTransferResult>>(
      [&] { return impl_->state.FindFailure(id); });
}

Status Ledger::Audit(AuditReport* report, bool verify_log) {
  if (impl_->options.read_only) {
    // Nothing changes a read-only ledger: audit directly.
    TS_RETURN_IF_ERROR(impl_->CheckReadable());
    std::uint64_t durable_end = 0;
    {
      std::lock_guard lock(impl_->mu);
      durable_end = impl_->durable_end_offset;
    }
    Impl::Request request;
    request.kind = Impl::Request::Kind::kAudit;
    request.audit_report = report;
    request.verify_log = verify_log;
    impl_->RunAudit(request, durable_end);
    return request.status;
  }
  Impl::Request request;
  request.kind = Impl::Request::Kind::kAudit;
  request.audit_report = report;
  request.verify_log = verify_log;
  return impl_->Submit(request);
}

const RecoveryReport& Ledger::recovery() const { return impl_->recovery; }

LedgerStats Ledger::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

Status Ledger::failure() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failed;
}

const std::filesystem::path& Ledger::path() const { return impl_->path; }

}  // namespace tapstack::ledger
