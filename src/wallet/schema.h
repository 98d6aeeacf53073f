// The wallet's tables on a store::Store, as one migration list.
//
//   wallet_users        user id, E.164 phone (unique), scrypt password hash, default card
//   wallet_sessions     SHA-256 of each session token (never the token), user, expiry
//   wallet_devices      the user's phones and watches: SE public key, storage, state, last location
//   wallet_cards        bank cards: masked PAN (first 6 / last 4) and last 4 only, expiry, product
//   wallet_card_tokens  card × device → the TSP's token id and its last known state
//   wallet_idempotency  (user, Idempotency-Key) → HMAC of the request, the stored answer
//   wallet_tsp_cursor   one row: the last TSP notification sequence number applied
// No table has a column for a full PAN or a CVV2 (PCI DSS 3.2 / 3.4).
#pragma once

#include <span>

#include "core/status.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::wallet {

// The migrations, oldest first. Never edit a shipped one; append.
std::span<const store::Migration> WalletMigrations();

// ApplyMigrations(store, WalletMigrations()); safe at every open. Errors: as
// store::ApplyMigrations. Call with no transaction open.
Status ApplyWalletSchema(store::Store& store);

}  // namespace tapstack::wallet
