// The TSP's tables on a store::Store, as one migration list (a store records one list per role).
//
//   tsp_data_keys   envelope data keys (DEKs): version, state, wrapping KEK id, nonce, wrapped key
//   tsp_tokens      token records: token number, PAN ciphertext + nonce + DEK version, keyed PAN
//                   fingerprint, PAR, expiry, requestor, device, lifecycle state, masked PAN
//   tsp_audit_log   append-only hash-chained audit entries
//   tsp_audit_head  one row: the last sequence number and hash (guards appends, detects truncation)
#pragma once

#include <span>

#include "core/status.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::tsp {

// The migrations, oldest first. Never edit a shipped one; append.
std::span<const store::Migration> TspMigrations();

// ApplyMigrations(store, TspMigrations()); safe to call at every open (applies nothing twice).
// Errors: as store::ApplyMigrations. Call with no transaction open.
Status ApplyTspSchema(store::Store& store);

}  // namespace tapstack::tsp
