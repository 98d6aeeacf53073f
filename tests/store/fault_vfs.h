// A SQLite VFS for tests that wraps the default one and can make every sync fail, the way a disk
// that lost power or reported EIO on fsync would. Open a store with
// StoreOptions::sqlite_vfs = kFaultVfsName.
#pragma once

namespace tapstack::store::testing {

inline constexpr const char* kFaultVfsName = "tapstack_fault";

// Registers the VFS (once per process; not as the default).
void RegisterFaultVfs();

// While true, xSync on every file opened through the VFS fails with SQLITE_IOERR_FSYNC.
void SetSyncFails(bool fail);

}  // namespace tapstack::store::testing
