// TokenAuthorization: the TSP's decision on one use of a payment token in an authorisation
// request, on the issuer's behalf ("on-behalf-of" cryptogram validation, emv-and-tokenization.md
// §7), before the network forwards the funding PAN to the issuer.
//
// Authorize() checks, in this order, and stops at the first failure:
//   1. the token: known to the vault and active (inactive, suspended, deleted are refused);
//   2. Token Domain Restriction Controls (§3): the channel (DE22 PAN entry mode 07 contactless
//      chip, 81/09 in-app / e-commerce, or 03 a consumer-presented QR code scanned at the merchant
//      (acquirer/consumer_presented.h), each with a chip cryptogram in DE55; anything else, e.g.
//      01 manual key entry or 90 magnetic stripe, is outside a device token's domain); the device
//      the token was provisioned to (DE48 DI, when sent; required for in-app, not for QR: the
//      merchant's scanner does not know the phone); the token requestor (DE48 TR, when sent); the
//      token expiry (DE14, when sent);
//   3. DE55: an ARQC (9F27 type bits 10, Book 3 Table 15) with its ATC, IAD and the cryptogram
//      data; 9F02/5F2A in DE55 must equal the request's amount and currency (DE4/DE49), so an
//      ARQC made for one amount cannot authorise another. One exception, for PAN entry mode 03
//      only: 9F02 may be zero, "amount unknown to the phone when it made the code" (a CPM code is
//      made before the merchant enters the amount); the issuer then authorises DE4, and 5F2A must
//      still equal DE49. The ATC (step 5) keeps such a code single use;
//   4. the ARQC, with the token's keys: MK-AC derived by the range's profile (Option A for
//      "mc-cvn20") from the issuer master key held for the token's BIN range, PAN = token number
//      (the card only knows the token; tags 5A/57 hold it), then the session key from the ATC;
//   5. the ATC against the token's ATC window (below), recorded durably before anything is
//      approved, so neither a replayed DE55 nor a restart can make an ATC count twice;
//   6. the funding PAN, through TokenVault::Detokenize (which audits the access).
// The ARPC (tag 91, the profile's method: ARPC method 1 with the AC session key for "mc-cvn20",
// Book 2 8.2.1) is computed with ARC "3030" (approve): it is the TSP's authentication of itself to
// the card, produced before the issuer decides, so the switch must send it only with an approval
// (network/token_service.h). Every refusal is audited (action "token_auth_refused", the token id
// and a reason code; never the token number or PAN).
//
// Credits to the card (DE3 positions 1-2 "20": a refund or a payment to the card, an 0200 without
// DE55) carry no cryptogram: Authorize() then checks only the token (known; active or suspended,
// since a refund must reach a card whose phone was lost; inactive and deleted are refused), the
// device and requestor (DE48 DI / TR) when sent and the expiry (DE14) when sent, accepts any entry
// mode, ignores DE55, spends no ATC and returns no tag 91; the de-tokenisation is audited like any
// other use (purpose "credit ...", DetokenizeRequest::allow_suspended). Which DE3 is a credit:
// iso8583/processing_code.h.
//
// ATC window: per token the highest ATC seen and a bitmap of the kAtcWindow ATCs below it. An ATC
// is accepted once if it is above the highest (by at most kAtcAheadMax) or within the window
// below it and not yet seen; a repeat (replay) or an ATC below the window is refused. One
// exception: a used ATC within the window, in a use with the same non-empty repeat_key as the use
// that spent it, is the acquirer repeating a request whose answer was lost (e.g. across a restart
// of the switch, whose duplicate detector lives in memory). It is accepted again without spending
// anything, audited with "repeat", and the issuer answers it from what it booked the first time.
// The same cryptogram in another request (another STAN or time) is still a replay. Such a repeat
// passes even when the token has been suspended since (step 1): the payment was accepted before.
// Which request spent which ATC lives in table tsp_token_atc_uses; the state in tsp_token_atc. Open(vault, options) keeps it in the vault's store
// (TspMigrations() version 4), so the ATC record and the de-tokenisation audit entry commit in one
// transaction, which a batch of uses can share (DecideInTransaction; TspService group-commits
// them). Open(vault, atc_store, options) is the older layout: the table (AtcMigrations()) in a
// database of its own (role "tsp_atc"), committed separately before the de-tokenisation.
//
// Errors map to the switch's response codes (network/token_service.h): kNotFound (unknown token,
// no keys for its BIN range; credits need no keys), kFailedPrecondition (token state, domain controls, ATC replay or
// outside the window), kInvalidArgument (malformed DE22/DE55, not an ARQC, amount or currency not
// those of the cryptogram, ARQC does not verify), and the store's (kUnavailable, kIoError ...).
// Messages name the token by its id, never by its number.
//
// Thread-safety: CheckCryptogram is const and may run on any thread at any time (it touches no
// store). Everything else: none; the vault and the stores are used from one thread at a time, so
// callers on many threads serialise (tsp_service.h holds a mutex). The vault and the store must
// outlive this object.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "emv/arqc_engine.h"
#include "store/migration.h"
#include "store/store.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

// ATCs below the highest one seen that are still accepted (each once): transactions that reach
// the TSP out of order. Fits the 64-bit bitmap column.
inline constexpr std::uint32_t kAtcWindow = 32;
// Largest step above the highest ATC seen (and the largest first ATC): the card also spends ATCs
// on offline declines (no CDCVM) and aborted taps, but a jump beyond this is an emulated or cloned
// card (emv-and-tokenization.md §14). tapstack's choice; networks configure their own.
inline constexpr std::uint32_t kAtcAheadMax = 256;
// Tokens configured with cryptogram keys (one entry per token BIN range).
inline constexpr std::size_t kTokenKeyRangesMax = kTokenBinRangesMax;

// The key handle the TSP holds for one token BIN range: tokens of the range get their MK-AC from
// this IMK-AC by the profile's derivation (the same way the device's credentials were made).
struct TokenRangeKeys {
  std::string low;                        // 8-digit token BIN, as tsp::TokenBinRange
  std::string high;                       // 8 digits, >= low
  std::string profile_name = "mc-cvn20";  // emv/cryptogram_profile.h
  crypto::SecretBytes issuer_master_key;  // IMK-AC for the profile's cipher (16 bytes TDES)
};

struct TokenAuthorizationOptions {
  std::vector<TokenRangeKeys> ranges;  // 1..kTokenKeyRangesMax, not overlapping
  std::string actor = "network:tsp";   // the audit actor of de-tokenisations and refusals
  const Clock* clock = nullptr;        // required: ATC record times
};

// One token use, as the request carries it. Views must outlive the call.
struct TokenUse {
  std::string_view token_number;       // DE2
  std::string_view processing_code;    // DE3, n6; empty: a purchase ("000000"); "20....": credit
  std::string_view pos_entry_mode;     // DE22, n3 ("071")
  ByteView icc_data;                   // DE55, BER-TLV
  std::int64_t amount_minor = 0;       // DE4
  std::uint16_t currency_numeric = 0;  // DE49
  std::string_view psn;           // card sequence number, 2 digits (DE23's last two); empty: "00"
  std::string_view token_expiry;  // DE14 YYMM; empty when not sent
  std::string_view device_id;     // DE48 DI; empty when not sent
  std::string_view requestor_id;  // DE48 TR; empty when not sent
  // The request's identity as the acquirer repeats it (DE32, DE41, DE11, DE7: an 0100 and its
  // 0101 share it); empty: the use can't be repeated. See "ATC window".
  std::string_view repeat_key;
};

struct TokenAuthorizationResult {
  DetokenizedPan funding;            // funding PAN, PAN expiry and the token record
  std::uint16_t atc = 0;             // the ATC now recorded; 0 for a credit (none spent)
  Bytes issuer_authentication_data;  // tag 91 value for the card: ARPC (8) || ARC "3030" (2);
                                     // empty for a credit (no cryptogram)
};

// The ATC state of one token.
struct AtcState {
  std::uint32_t highest = 0;  // 0: no ATC seen yet
  std::uint64_t window = 0;   // bit i set: ATC highest - 1 - i was seen (i < kAtcWindow)
};

// `state` after accepting `atc`. Errors: kInvalidArgument for ATC 0; kFailedPrecondition for an
// ATC already seen (replay), below the window, or more than kAtcAheadMax above the highest. Pure.
Result<AtcState> AdvanceAtcWindow(const AtcState& state, std::uint32_t atc);

// The outcome of steps 3-4 (DE55 and the ARQC) for one use, computed without any store: the
// token number's format and range, the cryptogram data, the ARQC verification and the ARPC.
// Opaque to callers: hand it to DecideInTransaction for the same use.
struct CheckedCryptogram {
  Status failure;              // not OK: the use fails with this (after steps 1-2 when audited)
  std::string reason;          // audit reason code of `failure`; empty: returned without an audit
  bool before_lookup = false;  // `failure` comes before the token lookup (format, BIN range)
  std::uint16_t atc = 0;
  Bytes issuer_authentication_data;  // tag 91 value when `failure` is OK
};

// The migrations of the ATC table, for the store given to TokenAuthorization::Open.
std::span<const store::Migration> AtcMigrations();

class TokenAuthorization {
 public:
  // Applies AtcMigrations() to `atc_store` and builds one cryptogram engine per range. Errors
  // (kInvalidArgument, naming the range index): no or too many ranges, a BIN not 8 digits, low >
  // high, overlapping ranges, an unknown profile, a profile without an ARPC method, an IMK of the
  // wrong length; clock missing; the store's.
  static Result<std::unique_ptr<TokenAuthorization>> Open(TokenVault& vault,
                                                          store::Store& atc_store,
                                                          TokenAuthorizationOptions options);
  // As above with the ATC table in the vault's store (TspMigrations), the layout that lets the
  // ATC and the audit entry commit together. Applies the TSP schema. Errors as above.
  static Result<std::unique_ptr<TokenAuthorization>> Open(TokenVault& vault,
                                                          TokenAuthorizationOptions options);
  ~TokenAuthorization();
  TokenAuthorization(const TokenAuthorization&) = delete;
  TokenAuthorization& operator=(const TokenAuthorization&) = delete;

  // The decision for `use` (see the top of this file). On success the ATC is recorded and the
  // de-tokenisation audited.
  Result<TokenAuthorizationResult> Authorize(const TokenUse& use);

  // Steps 3-4 for `use` (validation, ARQC verification, ARPC), with no store access: callers
  // run it before taking the mutex that guards the store. Thread-safe; pure.
  CheckedCryptogram CheckCryptogram(const TokenUse& use) const;

  // The rest of Authorize (token, domain controls, ATC, funding PAN) inside the transaction the
  // caller has open on the vault's store, with the audit chain locked
  // (AuditLog::LockChainInTransaction) and `checked` = CheckCryptogram(use). Sets `decision` to
  // what Authorize would return; its effects (ATC record, audit entries) are in the transaction,
  // so the caller must not release an approval before the transaction committed. The returned
  // Status is the transaction's: an error (the store's) means roll back and `decision` is
  // meaningless. Several calls may share one transaction: each sees the ATC the ones before it
  // recorded, so a replay inside the transaction is refused. Errors: kFailedPrecondition when
  // opened with a separate ATC store or when no transaction is open; the store's.
  Status DecideInTransaction(const TokenUse& use, const CheckedCryptogram& checked,
                             Result<TokenAuthorizationResult>& decision);

  // The funding PAN for a follow-up of an authorised use (reversal, completion, advice): these
  // carry no fresh cryptogram and must not spend an ATC. Audited with `purpose`. A suspended
  // token (a lost phone) stops new payments only: the follow-ups of payments made before reach
  // its issuer (else a reversal would leave its hold in place, found by the deterministic
  // simulation, src/sim). An inactive or deleted token is refused.
  // Errors: TokenVault::Detokenize's.
  Result<DetokenizedPan> ResolveFollowUp(std::string_view token_number, std::string_view purpose);

  // The recorded ATC state of a token (highest 0 when none). Errors: the store's.
  Result<AtcState> AtcStateOf(std::string_view token_id);

 private:
  struct Range;
  TokenAuthorization(TokenVault& vault, store::Store& atc_store, std::string actor,
                     const Clock& clock);

  static Result<std::unique_ptr<TokenAuthorization>> OpenOn(TokenVault& vault,
                                                            store::Store& atc_store,
                                                            TokenAuthorizationOptions options);
  const Range* RangeFor(std::string_view token_number) const;
  // Audits the refusal (joined when a transaction is open) and sets `decision` to `why`. Returns
  // the audit's store error, if any.
  Status Refuse(const TokenRecord& record, std::string_view reason, Status why,
                Result<TokenAuthorizationResult>& decision);
  // Steps 1, 2, 5, 6; effects joined to the open transaction, if any. Returns the store's error.
  Status Decide(const TokenUse& use, const CheckedCryptogram& checked,
                Result<TokenAuthorizationResult>& decision);
  // Whether `atc` of the token was spent by a use with this (non-empty) repeat key. Errors: the
  // store's.
  Result<bool> SpentBy(std::string_view token_id, std::uint32_t atc, std::string_view repeat_key);
  // Step 5: records `atc` as seen. Returns true when it was not recorded because the use is a
  // repeat of the one that spent it (TokenUse::repeat_key). Errors: kFailedPrecondition (replay,
  // outside the window), kInvalidArgument (ATC 0), the store's.
  Result<bool> RecordAtc(std::string_view token_id, std::uint32_t atc, std::string_view repeat_key);
  // Step 6: the funding PAN through the vault (audited with `request`), joined to the open
  // transaction, if any; `decision` gets it with `atc` and the tag 91 value. Returns the store's
  // error.
  Status Resolve(const TokenUse& use, const DetokenizeRequest& request, std::uint16_t atc,
                 const Bytes& issuer_authentication_data,
                 Result<TokenAuthorizationResult>& decision);

  TokenVault& vault_;
  store::Store& atc_store_;
  std::string actor_;
  const Clock& clock_;
  std::vector<Range> ranges_;
};

}  // namespace tapstack::tsp
