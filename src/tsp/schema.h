// The TSP's tables on a store::Store, as one migration list (a store records one list per role).
//
//   tsp_data_keys   envelope data keys (DEKs): version, state, wrapping KEK id, nonce, wrapped key
//   tsp_tokens      token records: token number, PAN ciphertext + nonce + DEK version, keyed PAN
//                   fingerprint, PAR, expiry, requestor, device, lifecycle state, masked PAN
//   tsp_audit_log   append-only hash-chained audit entries
//   tsp_audit_head  one row: the last sequence number and hash (guards appends, detects truncation)
//   tsp_token_keys  per token: storage (se/hce), the device's public key, the next HCE ATC to issue
//   tsp_otp_challenges          per pending token: HMAC of the OTP, attempts, expiry (otp_challenge.h)
//   tsp_provisioning_lockouts   keyed PAN hashes locked out of provisioning until a time
//   tsp_idv_stan    one row: the ID&V STAN counter of the current day (idv_client.h)
//   tsp_sms_outbox  messages of the outbox SMS gateway (sms_gateway.h)
//   tsp_token_history  uses of a token as the switch answered them (token_history.h)
//   tsp_notifications  lifecycle events per token requestor (token_notifications.h)
//   tsp_token_atc   per used token: highest ATC and the window below it (token_authorization.h)
//   tsp_token_atc_uses  per ATC in a token's window: the request that spent it
#pragma once

#include <span>
#include <string_view>

#include "core/status.h"
#include "store/migration.h"
#include "store/store.h"

namespace tapstack::tsp {

// The ATC window table of token_authorization.h: one row per used token, its highest ATC and the
// bitmap of the window below it, keyed by token id (no token number stored a second time). Created
// by the TSP store's migration 4, and by AtcMigrations() in an older separate store.
inline constexpr std::string_view kTokenAtcTableSql = R"sql(
CREATE TABLE tsp_token_atc (
  token_id TEXT PRIMARY KEY,
  highest_atc BIGINT NOT NULL CHECK (highest_atc >= 1 AND highest_atc <= 65535),
  seen_window BIGINT NOT NULL CHECK (seen_window >= 0),
  uses BIGINT NOT NULL CHECK (uses >= 1),
  updated_unix_ms BIGINT NOT NULL
);
)sql";

// The request that spent each ATC of a token's window (token_authorization.h, TokenUse::
// repeat_key): a repeat of that request (0101 after a lost answer) is told from a replayed
// cryptogram. Rows below the window are deleted as the window moves. Created by the TSP store's
// migration 5 and by AtcMigrations() version 2.
inline constexpr std::string_view kTokenAtcUsesTableSql = R"sql(
CREATE TABLE tsp_token_atc_uses (
  token_id TEXT NOT NULL,
  atc BIGINT NOT NULL CHECK (atc >= 1 AND atc <= 65535),
  repeat_key TEXT NOT NULL,
  PRIMARY KEY (token_id, atc)
);
)sql";

// The migrations, oldest first. Never edit a shipped one; append.
std::span<const store::Migration> TspMigrations();

// ApplyMigrations(store, TspMigrations()); safe to call at every open (applies nothing twice).
// Errors: as store::ApplyMigrations. Call with no transaction open.
Status ApplyTspSchema(store::Store& store);

}  // namespace tapstack::tsp
