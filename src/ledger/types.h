// The ledger's data model (TigerBeetle style): 128-bit ids, Account and Transfer records, their
// flags, and the result code of every create event.
//
// Accounts and transfers are fixed 128-byte records without padding. They are written to the log
// exactly as they lie in memory, so the layout below is the on-disk format (little-endian; the
// static_asserts pin every offset). See docs in ledger/ledger.h for the rules that apply to them.
//
// ## Amounts are unsigned 64-bit minor units
// An amount is a count of the currency's smallest unit (fen, cent). 2^64 - 1 minor units is
// 1.8e17 yuan or dollars: about a thousand times the world's annual GDP, for a single account
// balance. Every addition is checked and an overflow is a per-event error (kOverflows*), never
// wrap-around, so 64 bits are a capacity limit, not a safety risk; they also keep the records
// small and the arithmetic one instruction. core::Amount (int64) can represent every amount up to
// INT64_MAX. Sums over many accounts (the audit) are computed in 128 bits.
//
// ## Ledger = currency
// `ledger` partitions accounts: only accounts with the same ledger can transact. tapstack uses the
// ISO 4217 numeric code (156 = CNY) or any other u32 asset id (e.g. e-CNY).
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::ledger {

static_assert(std::endian::native == std::endian::little,
              "ledger records are written as they lie in memory, which must be little-endian");

// A 128-bit id chosen by the client. 0 and all-ones are reserved (refused as ids).
// Stored as two little-endian 64-bit halves, low half first.
struct Id128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;

  static constexpr Id128 FromU64(std::uint64_t value) { return Id128{value, 0}; }
  static constexpr Id128 Max() { return Id128{~std::uint64_t{0}, ~std::uint64_t{0}}; }

  constexpr bool is_zero() const { return low == 0 && high == 0; }
  constexpr bool is_max() const { return low == ~std::uint64_t{0} && high == ~std::uint64_t{0}; }

  // 32 lowercase hex digits, most significant first.
  std::string ToHex() const;
  // Parses 1 to 32 hex digits. Errors: kInvalidArgument (empty, too long, not hex).
  static Result<Id128> ParseHex(std::string_view hex);

  friend constexpr bool operator==(Id128 a, Id128 b) = default;
  // Numeric order (high half first).
  friend constexpr std::strong_ordering operator<=>(Id128 a, Id128 b) {
    if (auto c = a.high <=> b.high; c != 0) return c;
    return a.low <=> b.low;
  }
};

// Not implemented from TigerBeetle's model: the account flags history, imported and closed, and
// the transfer flags balancing_*, closing_* and imported. Their bits are reserved (reserved_flag).

// Account flags (Account::flags). Bits not listed are reserved and must be zero.
namespace account_flags {
// Links this event with the next one in the same request: the chain succeeds or fails as a unit.
inline constexpr std::uint16_t kLinked = 1u << 0;
// debits_pending + debits_posted ≤ credits_posted + credit_limit (a customer's funds account:
// the balance, credits − debits, never goes below −credit_limit).
inline constexpr std::uint16_t kDebitsMustNotExceedCredits = 1u << 1;
// credits_pending + credits_posted ≤ debits_posted + credit_limit (the mirror image, for accounts
// whose balance is debits − credits).
inline constexpr std::uint16_t kCreditsMustNotExceedDebits = 1u << 2;
inline constexpr std::uint16_t kAll =
    kLinked | kDebitsMustNotExceedCredits | kCreditsMustNotExceedDebits;
}  // namespace account_flags

// Transfer flags (Transfer::flags). Bits not listed are reserved and must be zero.
namespace transfer_flags {
inline constexpr std::uint16_t kLinked = 1u << 0;
// A hold: reserves the amount in debits_pending/credits_pending until posted, voided or expired.
inline constexpr std::uint16_t kPending = 1u << 1;
// Posts (all or part of) the pending transfer named by pending_id.
inline constexpr std::uint16_t kPostPendingTransfer = 1u << 2;
// Releases the pending transfer named by pending_id.
inline constexpr std::uint16_t kVoidPendingTransfer = 1u << 3;
inline constexpr std::uint16_t kAll =
    kLinked | kPending | kPostPendingTransfer | kVoidPendingTransfer;
}  // namespace transfer_flags

// A post_pending_transfer with this amount posts the whole pending amount.
inline constexpr std::uint64_t kPostFullPendingAmount = ~std::uint64_t{0};

// An account. Balances start at 0 and only transfers change them; the balance itself is not
// stored: it is credits − debits (or debits − credits) depending on the account's type.
// Accounts are immutable apart from their four balance fields and are never deleted.
struct Account {
  Id128 id;
  std::uint64_t debits_pending = 0;
  std::uint64_t debits_posted = 0;
  std::uint64_t credits_pending = 0;
  std::uint64_t credits_posted = 0;
  Id128 user_data_128;  // opaque links (wallet id, card account id …)
  std::uint64_t user_data_64 = 0;
  // The credit line: how far a flagged account may go past its limit (see account_flags). Minor
  // units; must be 0 unless one of the two balance flags is set. Fixed at creation.
  std::uint64_t credit_limit = 0;
  std::uint32_t user_data_32 = 0;
  std::uint32_t ledger = 0;  // currency (ISO 4217 numeric) or asset id; not 0
  std::uint16_t code = 0;    // account type in the chart of accounts; not 0
  std::uint16_t flags = 0;   // account_flags
  std::uint32_t reserved = 0;
  std::uint64_t timestamp = 0;  // set by the ledger (ns since the Unix epoch, unique); 0 on input
  std::array<std::uint8_t, 24> reserved_tail{};

  friend bool operator==(const Account& a, const Account& b) = default;
};

// A transfer: moves `amount` from the debit account to the credit account, on one ledger.
// Transfers are immutable; mistakes are corrected with new transfers.
struct Transfer {
  Id128 id;
  Id128 debit_account_id;
  Id128 credit_account_id;
  Id128 pending_id;  // post/void: the pending transfer resolved; else 0
  Id128 user_data_128;
  std::uint64_t amount = 0;  // minor units
  std::uint64_t user_data_64 = 0;
  std::uint64_t timestamp = 0;  // set by the ledger; 0 on input
  std::uint32_t user_data_32 = 0;
  // Pending transfers only: seconds after the ledger's timestamp of the transfer at which the hold
  // expires (0 = never). Measured on the ledger's clock, never the client's.
  std::uint32_t timeout = 0;
  std::uint32_t ledger = 0;
  std::uint16_t code = 0;   // the reason (chart of transfer codes); not 0
  std::uint16_t flags = 0;  // transfer_flags
  std::array<std::uint8_t, 8> reserved{};

  friend bool operator==(const Transfer& a, const Transfer& b) = default;
};

static_assert(sizeof(Id128) == 16);
static_assert(sizeof(Account) == 128 && alignof(Account) == 8);
static_assert(offsetof(Account, debits_pending) == 16 && offsetof(Account, credits_posted) == 40);
static_assert(offsetof(Account, user_data_128) == 48 && offsetof(Account, credit_limit) == 72);
static_assert(offsetof(Account, ledger) == 84 && offsetof(Account, flags) == 90);
static_assert(offsetof(Account, timestamp) == 96 && offsetof(Account, reserved_tail) == 104);
static_assert(sizeof(Transfer) == 128 && alignof(Transfer) == 8);
static_assert(offsetof(Transfer, pending_id) == 48 && offsetof(Transfer, amount) == 80);
static_assert(offsetof(Transfer, timestamp) == 96 && offsetof(Transfer, timeout) == 108);
static_assert(offsetof(Transfer, ledger) == 112 && offsetof(Transfer, flags) == 118);
static_assert(offsetof(Transfer, reserved) == 120);

// The life of a pending transfer. kNone for transfers that are not pending.
enum class PendingState : std::uint8_t {
  kNone = 0,
  kPending = 1,
  kPosted = 2,
  kVoided = 3,
  kExpired = 4,
};

// "none", "pending", "posted", "voided", "expired".
std::string_view PendingStateName(PendingState state);

// Result of one CreateAccounts event. The numeric values are stable (stored and exchanged):
// never renumber, only append.
enum class CreateAccountResult : std::uint32_t {
  kOk = 0,
  kLinkedEventFailed = 1,
  kLinkedEventChainOpen = 2,
  kTimestampMustBeZero = 3,
  kReservedField = 4,
  kReservedFlag = 5,
  kIdMustNotBeZero = 6,
  kIdMustNotBeIntMax = 7,
  kExistsWithDifferentFlags = 8,
  kExistsWithDifferentUserData128 = 9,
  kExistsWithDifferentUserData64 = 10,
  kExistsWithDifferentUserData32 = 11,
  kExistsWithDifferentLedger = 12,
  kExistsWithDifferentCode = 13,
  kExistsWithDifferentCreditLimit = 14,
  kExists = 15,
  kFlagsAreMutuallyExclusive = 16,
  kDebitsPendingMustBeZero = 17,
  kDebitsPostedMustBeZero = 18,
  kCreditsPendingMustBeZero = 19,
  kCreditsPostedMustBeZero = 20,
  kCreditLimitRequiresBalanceFlag = 21,
  kLedgerMustNotBeZero = 22,
  kCodeMustNotBeZero = 23,
};

// Result of one CreateTransfers event. Stable values, as above.
enum class CreateTransferResult : std::uint32_t {
  kOk = 0,
  kLinkedEventFailed = 1,
  kLinkedEventChainOpen = 2,
  kTimestampMustBeZero = 3,
  kReservedField = 4,
  kReservedFlag = 5,
  kIdMustNotBeZero = 6,
  kIdMustNotBeIntMax = 7,
  kIdAlreadyFailed = 8,
  kExistsWithDifferentFlags = 9,
  kExistsWithDifferentPendingId = 10,
  kExistsWithDifferentTimeout = 11,
  kExistsWithDifferentDebitAccountId = 12,
  kExistsWithDifferentCreditAccountId = 13,
  kExistsWithDifferentAmount = 14,
  kExistsWithDifferentUserData128 = 15,
  kExistsWithDifferentUserData64 = 16,
  kExistsWithDifferentUserData32 = 17,
  kExistsWithDifferentLedger = 18,
  kExistsWithDifferentCode = 19,
  kExists = 20,
  kFlagsAreMutuallyExclusive = 21,
  kPendingIdMustBeZero = 22,
  kPendingIdMustNotBeZero = 23,
  kPendingIdMustNotBeIntMax = 24,
  kPendingIdMustBeDifferent = 25,
  kTimeoutReservedForPendingTransfer = 26,
  kDebitAccountIdMustNotBeZero = 27,
  kDebitAccountIdMustNotBeIntMax = 28,
  kCreditAccountIdMustNotBeZero = 29,
  kCreditAccountIdMustNotBeIntMax = 30,
  kAccountsMustBeDifferent = 31,
  kLedgerMustNotBeZero = 32,
  kCodeMustNotBeZero = 33,
  kAmountMustNotBeZero = 34,
  kDebitAccountNotFound = 35,
  kCreditAccountNotFound = 36,
  kAccountsMustHaveTheSameLedger = 37,            // the two accounts are in different currencies
  kTransferMustHaveTheSameLedgerAsAccounts = 38,  // the transfer's currency is not theirs
  kPendingTransferNotFound = 39,
  kPendingTransferNotPending = 40,
  kPendingTransferHasDifferentDebitAccountId = 41,
  kPendingTransferHasDifferentCreditAccountId = 42,
  kPendingTransferHasDifferentLedger = 43,
  kPendingTransferHasDifferentCode = 44,
  kExceedsPendingTransferAmount = 45,
  kPendingTransferHasDifferentAmount = 46,
  kPendingTransferAlreadyPosted = 47,
  kPendingTransferAlreadyVoided = 48,
  kPendingTransferExpired = 49,
  kOverflowsDebitsPending = 50,
  kOverflowsCreditsPending = 51,
  kOverflowsDebitsPosted = 52,
  kOverflowsCreditsPosted = 53,
  kOverflowsDebits = 54,
  kOverflowsCredits = 55,
  kOverflowsTimeout = 56,
  kExceedsCredits = 57,  // the debit account's limit (debits_must_not_exceed_credits + credit line)
  kExceedsDebits = 58,   // the credit account's limit (credits_must_not_exceed_debits)
};

// Stable snake_case names, e.g. "exceeds_credits", "exists_with_different_amount".
std::string_view CreateAccountResultName(CreateAccountResult result);
std::string_view CreateTransferResultName(CreateTransferResult result);

// True for the failures that depend on the ledger's state at the time (an account or pending
// transfer not found yet, a limit, an overflow). The ledger remembers them per id: a retry with the
// same id returns kIdAlreadyFailed and can never succeed later by accident.
bool IsTransientFailure(CreateTransferResult result);

}  // namespace tapstack::ledger
