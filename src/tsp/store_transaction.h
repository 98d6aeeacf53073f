// Joining a caller's transaction: the TSP's stores (OTP challenges, the vault, device keys, the
// outbox) each commit their own change when called alone, but provisioning wants one token's
// creation, key binding, OTP challenge and SMS to commit together (one durable commit, and no
// partial state when a later step fails). Store transactions do not nest (store/store.h), so a
// component that would open one runs its function inside the caller's transaction instead when one
// is already open on the same Store.
//
// Joined, the function's effects commit or roll back with the caller's transaction, and an error it
// returns must make the caller roll back (it may have written some rows before failing): every
// caller that opens a transaction around these components propagates their errors.
//
// Thread-safety: as the Store (one thread at a time).
#pragma once

#include <functional>

#include "core/status.h"
#include "store/store.h"

namespace tapstack::tsp {

// fn(store) inside the transaction already open on `store`, or in one of its own (RunInTransaction,
// with its conflict retries) when none is open. Errors: fn's; the store's.
inline Status RunInTransactionOrJoin(store::Store& store,
                                     const std::function<Status(store::Store&)>& fn) {
  if (store.in_transaction()) return fn(store);
  return store.RunInTransaction(fn);
}

}  // namespace tapstack::tsp
