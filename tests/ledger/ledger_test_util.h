// Shared helpers for the ledger tests: record builders, a temp dir, the PostgreSQL switch, and an
// in-memory disk that can lose unsynced writes, tear them, or fail on demand.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/log_file.h"
#include "ledger/types.h"

namespace tapstack::ledger::testing {

inline constexpr std::uint32_t kCny = 156;
inline constexpr std::uint32_t kUsd = 840;
inline constexpr std::uint16_t kCode = 1;

inline Id128 Id(std::uint64_t value) { return Id128::FromU64(value); }

inline Account MakeAccount(std::uint64_t id, std::uint32_t ledger = kCny, std::uint16_t flags = 0,
                           std::uint64_t credit_limit = 0) {
  Account a;
  a.id = Id(id);
  a.ledger = ledger;
  a.code = kCode;
  a.flags = flags;
  a.credit_limit = credit_limit;
  return a;
}

inline Transfer MakeTransfer(std::uint64_t id, std::uint64_t debit, std::uint64_t credit,
                             std::uint64_t amount, std::uint16_t flags = 0,
                             std::uint32_t ledger = kCny) {
  Transfer t;
  t.id = Id(id);
  t.debit_account_id = Id(debit);
  t.credit_account_id = Id(credit);
  t.amount = amount;
  t.ledger = ledger;
  t.code = kCode;
  t.flags = flags;
  return t;
}

inline Transfer MakePending(std::uint64_t id, std::uint64_t debit, std::uint64_t credit,
                            std::uint64_t amount, std::uint32_t timeout_s = 0) {
  Transfer t = MakeTransfer(id, debit, credit, amount, transfer_flags::kPending);
  t.timeout = timeout_s;
  return t;
}

// A post (amount kPostFullPendingAmount = all) or void of `pending_id`, leaving accounts, ledger
// and code 0 ("as in the pending transfer").
inline Transfer MakePost(std::uint64_t id, std::uint64_t pending_id,
                         std::uint64_t amount = kPostFullPendingAmount) {
  Transfer t;
  t.id = Id(id);
  t.pending_id = Id(pending_id);
  t.amount = amount;
  t.flags = transfer_flags::kPostPendingTransfer;
  return t;
}
inline Transfer MakeVoid(std::uint64_t id, std::uint64_t pending_id) {
  Transfer t;
  t.id = Id(id);
  t.pending_id = Id(pending_id);
  t.flags = transfer_flags::kVoidPendingTransfer;
  return t;
}

inline std::string Names(const std::vector<CreateTransferResult>& results) {
  std::string out;
  for (CreateTransferResult r : results) {
    if (!out.empty()) out += ",";
    out += CreateTransferResultName(r);
  }
  return out;
}

// A new empty directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tapstack-ledger-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// TAPSTACK_TEST_PG_URL, or nullopt.
inline std::optional<std::string> PostgresTestUrl() {
  const char* url = std::getenv("TAPSTACK_TEST_PG_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Stores the PostgreSQL URL in `url`, or skips the test with a visible message (FAILS under CI).
#define TS_LEDGER_REQUIRE_POSTGRES(url)                                                      \
  do {                                                                                       \
    std::optional<std::string> ts_pg_url_ = ::tapstack::ledger::testing::PostgresTestUrl();  \
    if (!ts_pg_url_) {                                                                       \
      if (::tapstack::ledger::testing::InCi()) {                                             \
        FAIL() << "TAPSTACK_TEST_PG_URL is not set but CI=true: CI must run the PostgreSQL " \
                  "ledger tests (scripts/pg-test-server)";                                   \
      }                                                                                      \
      GTEST_SKIP() << "PostgreSQL ledger tests skipped: set TAPSTACK_TEST_PG_URL "           \
                      "(see scripts/pg-test-server)";                                        \
    }                                                                                        \
    (url) = *ts_pg_url_;                                                                     \
  } while (false)

// A disk in memory. What a process sees (`current`) and what would survive a power cut
// (`durable`) are kept apart: Sync makes current durable; Crash throws away (or tears) what was
// written since the last sync. Faults: the n-th write or sync can be made to fail.
class MemoryDisk {
 public:
  std::vector<std::uint8_t> current;
  std::vector<std::uint8_t> durable;
  int syncs = 0;
  int writes = 0;
  int fail_sync_at = -1;   // the sync with this number (0-based) fails
  int fail_write_at = -1;  // likewise for writes

  // Simulates a power cut: each unsynced write survives wholly, not at all, or torn (a random
  // subset of its 512-byte sectors), chosen by `seed`.
  void Crash(std::uint64_t seed) {
    std::lock_guard lock(mu);
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> after = durable;
    for (const auto& [offset, data] : unsynced_) {
      const int fate = static_cast<int>(rng() % 3);  // 0 lost, 1 whole, 2 torn
      if (fate == 0) continue;
      if (after.size() < offset + data.size()) after.resize(offset + data.size(), 0);
      for (std::size_t s = 0; s < data.size(); s += 512) {
        if (fate == 2 && rng() % 2 == 0) continue;
        const std::size_t n = std::min<std::size_t>(512, data.size() - s);
        std::memcpy(after.data() + offset + s, data.data() + s, n);
      }
    }
    unsynced_.clear();
    current = after;
    durable = after;
  }

  std::mutex mu;

 private:
  friend class MemoryLogFile;
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> unsynced_;
};

class MemoryLogFile final : public LogFile {
 public:
  explicit MemoryLogFile(std::shared_ptr<MemoryDisk> disk) : disk_(std::move(disk)) {}

  Result<std::uint64_t> Size() override {
    std::lock_guard lock(disk_->mu);
    return static_cast<std::uint64_t>(disk_->current.size());
  }
  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    std::lock_guard lock(disk_->mu);
    if (offset >= disk_->current.size()) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(out.size(), disk_->current.size() - offset);
    std::memcpy(out.data(), disk_->current.data() + offset, n);
    return n;
  }
  Status WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    std::lock_guard lock(disk_->mu);
    if (disk_->writes++ == disk_->fail_write_at) return IoError("injected write failure");
    if (disk_->current.size() < offset + data.size()) {
      disk_->current.resize(offset + data.size(), 0);
    }
    std::memcpy(disk_->current.data() + offset, data.data(), data.size());
    disk_->unsynced_.emplace_back(offset, std::vector<std::uint8_t>(data.begin(), data.end()));
    return Status::Ok();
  }
  Status Sync() override {
    std::lock_guard lock(disk_->mu);
    if (disk_->syncs++ == disk_->fail_sync_at) return IoError("injected fdatasync failure");
    disk_->durable = disk_->current;
    disk_->unsynced_.clear();
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<MemoryDisk> disk_;
  std::string name_ = "memory.wal";
};

inline LogFileOpener MemoryOpener(std::shared_ptr<MemoryDisk> disk) {
  return [disk](const std::filesystem::path&, LogFileMode) -> Result<std::unique_ptr<LogFile>> {
    return std::unique_ptr<LogFile>(std::make_unique<MemoryLogFile>(disk));
  };
}

// Options for a ledger on the in-memory disk with a small preallocation (tests stay fast).
inline LedgerOptions MemoryLedgerOptions(std::shared_ptr<MemoryDisk> disk, const Clock* clock) {
  LedgerOptions options;
  options.data_dir = "/nonexistent-memory-disk";
  options.open_file = MemoryOpener(std::move(disk));
  options.clock = clock;
  options.log_preallocate_bytes = 256 * 1024;
  options.expire_pending_interval_ms = 0;
  return options;
}

}  // namespace tapstack::ledger::testing
