// The digital-currency chart of accounts and how ledger ids are made (docs/dcep.md, "Ledgers").
//
// Two ledger numbers (ledger::Account::ledger / Transfer::ledger): e-CNY value (kEcnyLedgerId)
// and CNY bank reserves at the central bank (kCnyReserveLedgerId = ISO 4217 numeric 156). The
// account and transfer codes below are the chart of accounts of the central bank's ledger and of
// each operator's ledger; their values are stored in the logs, so never renumber them.
//
// Ids: every account and transfer id is chosen by the caller and derived, never drawn at random,
// so a retried request lands on the same ids and the ledger answers "exists" instead of moving
// money twice (TigerBeetle's client-chosen ids). IdDeriver keys the derivation with a per-role
// secret (HMAC-SHA-256, RFC 2104) so ids cannot be predicted from idempotency keys by outsiders,
// and a purpose string separates the id spaces of different operations.
//
// Thread-safety: IdDeriver is immutable after construction; its methods may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "ledger/types.h"

namespace tapstack::dcep {

// e-CNY value: "0E156" reads as "e-CNY, ISO 4217 156" (contract, docs/dcep.md).
inline constexpr std::uint32_t kEcnyLedgerId = 0x0E156;
// CNY reserves the operators hold at the central bank (ISO 4217 numeric code of CNY).
inline constexpr std::uint32_t kCnyReserveLedgerId = 156;
inline constexpr std::string_view kCurrencyCny = "CNY";

// Account codes (ledger::Account::code).
namespace account_code {
// Central bank ledger.
inline constexpr std::uint16_t kIssuance = 1;           // e-CNY; debit balance = total issued
inline constexpr std::uint16_t kOperatorPosition = 2;   // e-CNY; an operator's position
inline constexpr std::uint16_t kOperatorReserve = 3;    // CNY; an operator's reserve deposit
inline constexpr std::uint16_t kReserveLiability = 4;   // CNY; the central bank's side
inline constexpr std::uint16_t kReserveFunding = 5;     // CNY; where seed reserves come from
// Operator ledgers.
inline constexpr std::uint16_t kCentralBankPosition = 10;  // mirror of the position at the CB
inline constexpr std::uint16_t kFloat = 11;                // e-CNY received, not yet in wallets
inline constexpr std::uint16_t kWallet = 12;
inline constexpr std::uint16_t kOfflinePurse = 13;         // value on hardware wallet D
inline constexpr std::uint16_t kEscrow = 14;               // value locked under contract C
}  // namespace account_code

// Transfer codes (ledger::Transfer::code).
namespace transfer_code {
// Central bank ledger.
inline constexpr std::uint16_t kReserveFunding = 1;  // seed: funding an operator's reserve
inline constexpr std::uint16_t kIssueReserve = 2;    // reserve → liability (linked with kIssue)
inline constexpr std::uint16_t kIssue = 3;           // issuance → position
inline constexpr std::uint16_t kRedeem = 4;          // position → issuance (linked)
inline constexpr std::uint16_t kRedeemReserve = 5;   // liability → reserve
inline constexpr std::uint16_t kSettle = 6;          // position X → position Y
// Operator ledgers.
inline constexpr std::uint16_t kIssueReceived = 20;   // central_bank_position → float
inline constexpr std::uint16_t kRedeemSent = 21;      // float → central_bank_position (hold)
inline constexpr std::uint16_t kExchangeIn = 22;      // float → wallet (deposit to e-CNY)
inline constexpr std::uint16_t kExchangeOut = 23;     // wallet → float (redeem to deposit)
inline constexpr std::uint16_t kPayment = 24;         // wallet → wallet, same operator
inline constexpr std::uint16_t kInterbankOut = 25;    // wallet → central_bank_position (hold)
inline constexpr std::uint16_t kInterbankIn = 26;     // central_bank_position → wallet
inline constexpr std::uint16_t kPurseFund = 27;       // wallet → offline purse
inline constexpr std::uint16_t kPurseDefund = 28;     // offline purse → wallet
// Conditional payments (dcep/contract_book.h).
inline constexpr std::uint16_t kContractLock = 29;     // payer wallet → escrow
inline constexpr std::uint16_t kContractRelease = 30;  // escrow → merchant / payee wallet
inline constexpr std::uint16_t kContractRefund = 31;   // escrow → payer wallet
// Offline settlement (dcep/offline_settlement.h).
inline constexpr std::uint16_t kPurseMove = 40;       // payer device's purse → payee device's purse
inline constexpr std::uint16_t kOfflineLossCover = 41;  // float → a double-spend victim's purse
}  // namespace transfer_code

// Length of the per-role key IdDeriver wants (bytes).
inline constexpr std::size_t kIdKeyBytesMin = 16;

// Derives 128-bit ledger ids from strings under a per-role HMAC-SHA-256 key.
class IdDeriver {
 public:
  // `key` at least kIdKeyBytesMin bytes (checked by Create). Errors: kInvalidArgument.
  static Result<IdDeriver> Create(crypto::SecretBytes key);

  IdDeriver(IdDeriver&&) = default;
  IdDeriver& operator=(IdDeriver&&) = default;

  // The first 16 bytes of HMAC-SHA-256(key, purpose ‖ 0x00 ‖ part1 ‖ 0x00 ‖ part2), never 0 or
  // all-ones (refused ids; such a digest is remapped). Errors: kCryptoFailure (OpenSSL).
  Result<ledger::Id128> Derive(std::string_view purpose, std::string_view part1,
                               std::string_view part2 = {}) const;

 private:
  explicit IdDeriver(crypto::SecretBytes key) : key_(std::move(key)) {}
  crypto::SecretBytes key_;
};

// The first 16 bytes of SHA-256(text) as an Id128: the digest of a request body, kept in a
// transfer's user_data_128 so a replay with a different body is told apart (kAlreadyExists).
Result<ledger::Id128> RequestDigest(std::string_view canonical_request);

// A demo per-role key: HMAC-SHA-256(SHA-256(kDemoDcepMaster), role). Published, protects nothing;
// for tests, benches and the demo network only.
inline constexpr std::string_view kDemoDcepMaster =
    "tapstack demo key set: digital currency id keys (not a production secret)";
crypto::SecretBytes DemoDcepIdKey(std::string_view role);

// 16 bytes of an Id128 in big-endian order (numeric order = byte order), for BYTEA columns.
Bytes IdToBytes(ledger::Id128 id);
// The inverse; kCorruption unless 16 bytes.
Result<ledger::Id128> IdFromBytes(ByteView bytes);

// The message of a replayed idempotency key with a different body (contract).
inline constexpr std::string_view kKeyReusedMessage =
    "idempotency key reused with a different request";

}  // namespace tapstack::dcep
