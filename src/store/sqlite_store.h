// The SQLite Store: the embedded default, one database file per role.
//
// Each role keeps its state in <data_dir>/<role>.db. The connection runs in WAL mode with
// synchronous=FULL (a commit is on disk when Commit returns), foreign keys enforced and a busy
// timeout of StoreOptions::busy_timeout_ms. Several Stores (threads or processes) may open the same
// role; writers take turns (Begin takes the write lock), readers never block.
// See store/store.h for the SQL dialect, errors and thread-safety.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::store {

// The file OpenSqlite uses for `role` (no check of the name).
std::filesystem::path SqlitePath(const std::filesystem::path& data_dir, std::string_view role);

// Opens <data_dir>/<role>.db, creating the directory and the file when missing.
// Errors: kInvalidArgument for a bad role name (CheckRoleName) or an unknown sqlite_vfs;
// kIoError when the directory or file cannot be created, opened or switched to WAL;
// kCorruption when the file is not a SQLite database.
Result<std::unique_ptr<Store>> OpenSqlite(const std::filesystem::path& data_dir,
                                          std::string_view role, const StoreOptions& options = {});

}  // namespace tapstack::store
