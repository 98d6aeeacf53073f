// The PostgreSQL Store (libpq): for roles that run as their own processes or share a server.
//
// Each role keeps its tables in the schema <role> of the database named by the URL; the schema is
// created when missing and is the whole search_path of every connection, so roles sharing one
// database cannot see each other's tables by accident. Statements are prepared on the server
// (PQprepare) and run with PQexecPrepared; integers, booleans and BYTEA travel in binary, so blobs
// keep every byte including 0x00.
//
// A lost connection fails the call that finds it with kUnavailable; the next call made outside a
// transaction reconnects (and re-prepares statements as they are used). Inside a transaction there
// is no reconnect: the transaction is aborted and must be rolled back first.
// See store/store.h for the SQL dialect, errors and thread-safety.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::store {

// Connects to `url` (a libpq URI such as postgresql://user@host:5432/db, or key=value pairs) and
// uses schema `role`, creating it when missing.
// Errors: kInvalidArgument for a bad role name (CheckRoleName); kUnavailable when the server cannot
// be reached or refuses the connection; others as in store/store.h for creating the schema.
Result<std::unique_ptr<Store>> OpenPostgres(std::string_view url, std::string_view role,
                                            const StoreOptions& options = {});

}  // namespace tapstack::store
