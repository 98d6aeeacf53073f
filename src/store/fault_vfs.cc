#include "store/fault_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tapstack::store {

namespace {

std::atomic<bool> sync_fails{false};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs fault_vfs;

// One SetFaultHook: shared by the files opened under it, so a failure in one (the WAL) stops
// writes to the others (the database file, at the checkpoint a close would run).
struct HookState {
  FaultHook hook;
  std::atomic<bool> failed{false};
};

std::mutex hooks_mu;
std::map<std::string, std::shared_ptr<HookState>>& Hooks() {
  static auto* hooks = new std::map<std::string, std::shared_ptr<HookState>>();
  return *hooks;
}

// What a write replaced, to put back if the disk "loses" unsynced writes.
struct Undo {
  sqlite3_int64 offset;
  std::vector<char> bytes;
};

// Per open file with a hook (heap: SQLite's file slot is raw memory).
struct FileState {
  std::shared_ptr<HookState> hook;
  std::mutex mu;
  sqlite3_int64 synced_size = 0;
  std::vector<Undo> unsynced;  // oldest first
};

// Our file object, followed in the same allocation by the real VFS's file object.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
  FileState* state;  // null without a hook
};

FaultFile* Fault(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Fault(f)->real; }

sqlite3_int64 SizeOf(sqlite3_file* real) {
  sqlite3_int64 size = 0;
  return real->pMethods->xFileSize(real, &size) == SQLITE_OK ? size : 0;
}

// Reads [offset, end) of the synced content still in the file (what a write or a truncate is about
// to replace), clipped to the synced size.
void RememberSynced(FaultFile* f, sqlite3_int64 offset, sqlite3_int64 end) {
  FileState& st = *f->state;
  end = std::min(end, st.synced_size);
  if (offset >= end) return;
  Undo undo{offset, std::vector<char>(static_cast<std::size_t>(end - offset))};
  f->real->pMethods->xRead(f->real, undo.bytes.data(), static_cast<int>(undo.bytes.size()), offset);
  st.unsynced.push_back(std::move(undo));
}

// The disk dropped what was written since the last good sync: newest undo first, so the oldest
// (the synced bytes) wins; then the file is cut back to its synced size.
void LoseUnsynced(FaultFile* f) {
  FileState& st = *f->state;
  for (auto it = st.unsynced.rbegin(); it != st.unsynced.rend(); ++it) {
    f->real->pMethods->xWrite(f->real, it->bytes.data(), static_cast<int>(it->bytes.size()),
                              it->offset);
  }
  st.unsynced.clear();
  if (SizeOf(f->real) > st.synced_size) f->real->pMethods->xTruncate(f->real, st.synced_size);
  f->real->pMethods->xSync(f->real, SQLITE_SYNC_NORMAL);
}

// What `operation` meets, the hook's verdict applied (kFailAndLose: the unsynced writes are
// undone). After a failure every call meets kFailAndLose, sticky until a new hook (a restart):
// nothing more reaches the disk.
FaultVerdict Verdict(FaultFile* f, FileOperation operation) {
  FileState& st = *f->state;
  if (st.hook->failed.load()) return FaultVerdict::kFailAndLose;
  const FaultVerdict verdict = st.hook->hook(operation);
  if (verdict == FaultVerdict::kPass) return verdict;
  st.hook->failed.store(true);
  if (verdict == FaultVerdict::kFailAndLose) LoseUnsynced(f);
  return verdict;
}

int Close(sqlite3_file* f) {
  const int rc = Real(f)->pMethods->xClose(Real(f));
  delete Fault(f)->state;
  Fault(f)->state = nullptr;
  return rc;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  FaultFile* ff = Fault(f);
  if (ff->state == nullptr) return ff->real->pMethods->xWrite(ff->real, buf, n, off);
  std::lock_guard lock(ff->state->mu);
  const FaultVerdict verdict = Verdict(ff, FileOperation::kWrite);
  if (verdict == FaultVerdict::kFailAndLose) return SQLITE_IOERR_WRITE;
  RememberSynced(ff, off, off + n);
  const int rc = ff->real->pMethods->xWrite(ff->real, buf, n, off);
  return verdict == FaultVerdict::kFail ? SQLITE_IOERR_WRITE : rc;
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultFile* ff = Fault(f);
  if (ff->state == nullptr) return ff->real->pMethods->xTruncate(ff->real, size);
  std::lock_guard lock(ff->state->mu);
  if (ff->state->hook->failed.load()) return SQLITE_IOERR_TRUNCATE;
  RememberSynced(ff, size, ff->state->synced_size);
  return ff->real->pMethods->xTruncate(ff->real, size);
}
int Sync(sqlite3_file* f, int flags) {
  if (sync_fails.load()) return SQLITE_IOERR_FSYNC;
  FaultFile* ff = Fault(f);
  if (ff->state == nullptr) return ff->real->pMethods->xSync(ff->real, flags);
  std::lock_guard lock(ff->state->mu);
  // kFail: the writes stay where they are (the page cache), so they reach the disk.
  if (Verdict(ff, FileOperation::kSync) != FaultVerdict::kPass) return SQLITE_IOERR_FSYNC;
  const int rc = ff->real->pMethods->xSync(ff->real, flags);
  if (rc == SQLITE_OK) {
    ff->state->unsynced.clear();
    ff->state->synced_size = SizeOf(ff->real);
  }
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }

// Version 2 (shared memory for WAL, no memory-mapped fetch).
const sqlite3_io_methods kFaultIoMethods = {
    .iVersion = 2,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

// The hook of the database `name` belongs to: its own path, or the path its -wal or -journal
// suffix extends.
std::shared_ptr<HookState> HookFor(const char* name) {
  if (name == nullptr) return nullptr;
  std::lock_guard lock(hooks_mu);
  const std::string path(name);
  for (const auto& [database, state] : Hooks()) {
    if (path.compare(0, database.size(), database) == 0 &&
        (path.size() == database.size() || path[database.size()] == '-')) {
      return state;
    }
  }
  return nullptr;
}

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = reinterpret_cast<FaultFile*>(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->base.pMethods = nullptr;
  f->state = nullptr;
  const int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) return rc;
  f->base.pMethods = &kFaultIoMethods;
  if (auto hook = HookFor(name)) {
    f->state = new FileState();
    f->state->hook = std::move(hook);
    f->state->synced_size = SizeOf(f->real);
  }
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return real_vfs->xDlOpen(real_vfs, name); }
void DlError(sqlite3_vfs*, int n, char* out) { real_vfs->xDlError(real_vfs, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return real_vfs->xDlSym(real_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { real_vfs->xDlClose(real_vfs, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return real_vfs->xRandomness(real_vfs, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return real_vfs->xSleep(real_vfs, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return real_vfs->xCurrentTime(real_vfs, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xGetLastError(real_vfs, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

}  // namespace

void RegisterFaultVfs(bool make_default) {
  static std::once_flag once;
  std::call_once(once, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    std::memset(&fault_vfs, 0, sizeof fault_vfs);
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = kFaultVfsName;
    fault_vfs.xOpen = Open;
    fault_vfs.xDelete = Delete;
    fault_vfs.xAccess = Access;
    fault_vfs.xFullPathname = FullPathname;
    fault_vfs.xDlOpen = DlOpen;
    fault_vfs.xDlError = DlError;
    fault_vfs.xDlSym = DlSym;
    fault_vfs.xDlClose = DlClose;
    fault_vfs.xRandomness = Randomness;
    fault_vfs.xSleep = Sleep;
    fault_vfs.xCurrentTime = CurrentTime;
    fault_vfs.xGetLastError = GetLastError;
    fault_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    sqlite3_vfs_register(&fault_vfs, /*makeDflt=*/0);
  });
  // Registering again moves it to the head of the list, which is the default (sqlite3_vfs_register).
  if (make_default) sqlite3_vfs_register(&fault_vfs, /*makeDflt=*/1);
}

void SetFaultHook(const std::filesystem::path& database, FaultHook hook) {
  // As SQLite names the files it opens: absolute, symbolic links resolved.
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(database, ec);
  const std::string key = (ec ? database : resolved).string();
  std::lock_guard lock(hooks_mu);
  if (!hook) {
    Hooks().erase(key);
    return;
  }
  auto state = std::make_shared<HookState>();
  state->hook = std::move(hook);
  Hooks()[key] = std::move(state);
}

namespace testing {

void SetSyncFails(bool fail) { sync_fails.store(fail); }

}  // namespace testing

}  // namespace tapstack::store
