// The fault VFS: a SQLite VFS that wraps the default one so that tests and the simulator can make
// a database's disk fail (issue #10, "a failing disk write"). A store opened with
// StoreOptions::sqlite_vfs = kFaultVfsName behaves exactly as with the default VFS until a hook
// or SetSyncFails says otherwise.
//
// What a failure leaves on disk is the hook's choice, as a real failed write or fsync leaves it
// unknown:
//   kFail         the call fails (SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC), but what it wrote and
//                 every write before it reach the disk;
//   kFailAndLose  the call fails, is not performed, and every write to that file since its last
//                 good sync is undone (the old bytes put back, the file cut back to its synced
//                 size): the disk dropped them.
// After a failure every later write and sync to the files of that hook fails too, until a new hook
// is set for the database: a process that saw its disk fail must reopen (restart) before it writes
// again, and its in-memory view (SQLite's page cache, the WAL index) must never reach the disk
// over what was undone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

namespace tapstack::store {

inline constexpr const char* kFaultVfsName = "tapstack_fault";

enum class FileOperation : std::uint8_t { kWrite, kSync };
enum class FaultVerdict : std::uint8_t { kPass, kFail, kFailAndLose };

// Consulted before every write and sync of a file opened through the VFS, from SQLite's calling
// thread; must not call back into SQLite.
using FaultHook = std::function<FaultVerdict(FileOperation operation)>;

// Registers the VFS (once per process). With `make_default`, it also becomes the process's default
// VFS: every SQLite file opened from then on goes through it, and files without a hook pass
// straight through to the real VFS. The simulator uses that to fail any role's store without
// each role's options naming the VFS.
void RegisterFaultVfs(bool make_default = false);

// Files of `database` (the .db file and its -wal and -journal; the WAL index, -shm, is memory the
// default VFS maps itself) opened from now on consult `hook`; an empty hook detaches it. Files
// already open keep the hook they were opened with.
void SetFaultHook(const std::filesystem::path& database, FaultHook hook);

namespace testing {

// Process-wide, for tests: while true, every sync of every file opened through the VFS fails
// with SQLITE_IOERR_FSYNC and the writes before it stay (not sticky).
void SetSyncFails(bool fail);

}  // namespace testing

}  // namespace tapstack::store
