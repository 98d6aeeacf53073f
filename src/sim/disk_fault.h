// DiskFault: the simulator's failing disk (issue #10, "a failing disk write") under one issuer
// host's ledger log, or under the switch's SQLite store. The host opens its log through
// DiskFault::Opener(), the switch its store through the fault VFS with SqliteHook()
// (store/fault_vfs.h); the file behaves as the real one until the simulator arms the fault, then the next write or sync (which one, the seed
// says) fails with kIoError. What the failure leaves on disk is the seed's choice too, as a real
// failed fdatasync leaves it unknown:
//   kLost  every write since the last good sync is undone (the old bytes put back, synced): the
//          disk dropped them;
//   kKept  the writes stay: they reached the disk although the caller was told they failed.
// The ledger sees a sticky failure either way (ledger.h); the host stops answering what it wrote
// (issuer_host.h, ledger_failed) and the simulator restarts it, which recovers what is on disk.
// The switch's store refuses every write after the failure (the VFS makes it sticky); the switch
// leaves what depended on it unanswered (Switch::LeaveUnanswered) until the simulator restarts it.
//
// Thread-safety: every method may be called from any thread (the ledger's threads write, the
// simulator's thread arms and reads).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "ledger/log_file.h"
#include "store/fault_vfs.h"

namespace tapstack::sim {

enum class DiskFailure : std::uint8_t { kWrite, kSync };
enum class DiskAftermath : std::uint8_t { kLost, kKept };

class DiskFault : public std::enable_shared_from_this<DiskFault> {
 public:
  // Opens the real (POSIX) log file behind a file that consults this fault. The opener keeps the
  // DiskFault alive.
  ledger::LogFileOpener Opener();
  // The same fault for the files of a SQLite database (store::SetFaultHook); when it fails a
  // call it also sets `failed` (the store's owner is then restarted; unlike triggered(), Disarm
  // does not clear it). The hook keeps the DiskFault alive.
  store::FaultHook SqliteHook(std::shared_ptr<std::atomic<bool>> failed);

  // The next `failure` fails, leaving `aftermath`. Replaces an armed, untriggered fault.
  void Arm(DiskFailure failure, DiskAftermath aftermath);
  // Forgets the fault, armed or triggered (a restarted host gets a healthy disk).
  void Disarm();
  // The armed fault has happened (a write or sync failed) since the last Arm/Disarm.
  bool triggered() const;

 private:
  friend class FaultyLogFile;
  enum class Verdict : std::uint8_t { kPass, kFail, kFailAndLose };
  // Called by the file before a write or a sync: whether it fails, and whether to lose the
  // unsynced writes. A fault fires once.
  Verdict Check(DiskFailure operation);

  mutable std::mutex mu_;
  bool armed_ = false;
  bool triggered_ = false;
  DiskFailure failure_ = DiskFailure::kSync;
  DiskAftermath aftermath_ = DiskAftermath::kLost;
};

}  // namespace tapstack::sim
