// LogFile: the only way the ledger touches its disk file, so tests can inject faults (failed
// syncs, lost unsynced writes, torn writes) without a real crash. LevelDB's Env, cut to what a log
// needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace tapstack::ledger {

class LogFile {
 public:
  virtual ~LogFile() = default;

  // Current size in bytes.
  virtual Result<std::uint64_t> Size() = 0;
  // Reads up to out.size() bytes at `offset`; returns how many were read (short only at the end
  // of the file). Safe to call from several threads, also while another thread writes elsewhere.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  // Writes all of `data` at `offset`, growing the file when needed. Not durable until Sync().
  virtual Status WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
  // Makes every completed WriteAt durable (fdatasync). After a failure the file's durable content
  // is unknown: the caller must stop writing (the ledger's sticky failure).
  virtual Status Sync() = 0;
  // For messages: the path.
  virtual const std::string& name() const = 0;
};

enum class LogFileMode {
  kReadWrite,  // create when missing; exclusive lock: one writer process per ledger
  kReadOnly,   // must exist; shared lock: refused while a writer has the ledger open
};

// Opens `path`. POSIX implementation: open(2) + flock(2) (kFailedPrecondition when another
// process holds a conflicting lock; the lock dies with the process, so kill -9 never leaves a stale
// lock), and when a file is created, an fsync of its directory so the new name is durable.
// Errors: kNotFound (read-only, missing), kFailedPrecondition (locked), kIoError.
using LogFileOpener =
    std::function<Result<std::unique_ptr<LogFile>>(const std::filesystem::path& path, LogFileMode)>;

Result<std::unique_ptr<LogFile>> OpenPosixLogFile(const std::filesystem::path& path,
                                                  LogFileMode mode);

}  // namespace tapstack::ledger
