// CardRegistry: one city operator's register of the transit cards it issued into phones, and the
// life of each card: issue (with the city's opening fee and deposit), lose, migrate to a new phone
// of the same account, delete with a refund; plus the blacklist its gates enforce
// (shared/design/domain/transit-purse.md sections 3, 9 and 11).
//
// Serial numbers: 20 digits, the 4-digit city code then a 16-digit sequence from the store
// ("1000" + "0000000000000001"); the card holds them as 10 BCD bytes, and its last 8 bytes
// diversify the card's keys (transit/card_personalisation.h). Card keys are never stored: each
// personalisation re-derives them from the master keys.
//
// Money: the opening fee and the deposit are charged at issue through TopUpPayment (Authorize then
// Capture) under the payment order id "open-<card_id>". A deletion records a refund due to the
// account (balance when the city refunds balances, plus the deposit), to be paid back to the bank
// card that paid last for this card: the card on file (TopUpPayment::CardOnFile) of its newest
// loaded top-up, else of its opening charge, looking back through the cards it was migrated from.
// PayRefund credits it (TopUpPayment::Refund) and records the credit.
//
// Risk on a lost phone: ReportLost blacklists the serial, but gates learn it only at their next
// blacklist download; taps made offline in between spend the lost card's balance, and are the
// operator's risk (MigrateCard carries over the balance the operator knows, which clearing
// supplies; a later clearing of such taps shows up as an anomaly, not as a new card's debt).
//
// Durable before answered: every state change is committed before a call returns; calls that
// charge a payment write the card first (status "issuing") so a crash leaves a trace, and a retry
// of the same card_id resumes where the last attempt stopped.
// Thread-safe: one mutex around the store connection (which the registry owns).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "store/store.h"
#include "transit/card_personalisation.h"
#include "transit/city_network.h"
#include "transit/top_up_payment.h"
#include "transit/validator.h"

namespace tapstack::transit {

inline constexpr std::size_t kRegistryIdBytesMax = 64;  // card, account and device ids
inline constexpr std::size_t kBlacklistReasonBytesMax = 200;
inline constexpr std::uint32_t kCardValidityYears = 5;  // validity: issue day .. +5 years
inline constexpr std::int64_t kMigrationWindowMillis = 365LL * 24 * 3600 * 1000;  // rolling year
inline constexpr std::size_t kCardSerialDigits = 20;
inline constexpr std::int64_t kCardSequenceMax = 9'999'999'999'999'999;  // 16 digits

enum class CardStatus { kIssuing, kActive, kLost, kClosed, kMigrated };
// "issuing", "active", "lost", "closed", "migrated".
std::string_view CardStatusName(CardStatus status);

struct CardRequest {
  std::string card_id;     // the wallet's id of this card instance; the idempotency key
  std::string account_id;  // the wallet account that owns the card
  std::string device_id;   // the phone whose secure element receives the card
  Bytes
      device_public_key;  // that secure element's P-256 key (the personalisation is wrapped to it)
  nlohmann::json payment_data;  // in-app payment for the fee and deposit; opaque, never stored
};

struct MigrationRequest {
  std::string card_id;     // the new card instance on the new phone; the idempotency key
  std::string account_id;  // must be the old card's account
  std::string device_id;
  Bytes device_public_key;
};

// What the wallet installs: SecureElement::InstallTransitCard(card_id, wrapped_profile).
struct IssuedCard {
  std::string serial;  // 20 digits
  std::string card_id;
  Bytes wrapped_profile;
  std::uint32_t fee_fen = 0;      // opening fee charged for this card (0 on a migration)
  std::uint32_t deposit_fen = 0;  // deposit held for this card (carried over on a migration)
  std::uint32_t opening_balance_fen = 0;  // non-zero on a migration
  std::uint32_t start_date = 0;           // YYYYMMDD, China Standard Time
  std::uint32_t expiry_date = 0;          // YYYYMMDD
};

struct TransitCardInfo {
  std::string serial;
  std::string card_id;
  std::string account_id;
  std::string device_id;
  CardStatus status = CardStatus::kIssuing;
  std::uint32_t opening_fee_fen = 0;
  std::uint32_t deposit_fen = 0;
  std::uint32_t opening_balance_fen = 0;
  std::uint32_t issued_date = 0;  // YYYYMMDD: the card's start date
  std::uint32_t expiry_date = 0;
  std::optional<std::string> replaces;             // the serial this card was migrated from
  std::optional<std::string> replaced_by;          // the serial this card was migrated to
  std::optional<std::uint32_t> final_balance_fen;  // closed or migrated: the balance at the end
  std::int64_t created_unix_ms = 0;
};

// "due": not paid yet (never tried, or the last try failed: last_error says why);
// "paying": a credit is on its way; "paid": credit_ref names the credit;
// "unknown": a credit was sent by a process that stopped before its answer was recorded. It is
// never sent again automatically (that could pay twice); the operator checks the network's
// settlement report for the credit and settles it by hand.
enum class RefundState { kDue, kPaying, kPaid, kUnknown };
std::string_view RefundStateName(RefundState state);

struct Refund {
  std::string refund_id;  // "close-<serial>"
  std::string account_id;
  std::string card_serial;
  std::uint32_t amount_fen = 0;
  std::string reason;
  RefundState state = RefundState::kDue;
  bool has_card_on_file = false;  // false: no payment of this card is on file; paid by hand
  std::string credit_ref;         // "paid": the credit's reference
  std::string last_error;         // "due" after a failed try: why
};

struct ClosedCard {
  std::string serial;
  std::uint32_t balance_refund_fen = 0;  // the final balance when the city refunds it, else 0
  std::uint32_t deposit_refund_fen = 0;
  std::uint32_t refund_fen = 0;  // the sum; 0 records no refund
  std::string refund_id;         // empty when refund_fen is 0
};

struct BlacklistSnapshot {
  std::int64_t version = 0;             // 0: never changed; grows by one with every serial added
  std::vector<BlacklistEntry> entries;  // ordered by serial
};

struct CardRegistryOptions {
  std::shared_ptr<const CityNetwork> city;
  TransitMasterKeys keys;               // the four purse master keys of this city's cards
  TopUpPayment* payment = nullptr;      // not owned; must outlive the registry
  const Clock* clock = nullptr;         // default: SystemClock::Instance()
  std::unique_ptr<store::Store> store;  // the operator store (OpenOperatorStore); owned
};

class CardRegistry {
 public:
  // Applies the operator schema. Errors (kInvalidArgument): no city, store or payment; master keys
  // that are not 16 bytes; store errors.
  static Result<std::unique_ptr<CardRegistry>> Open(CardRegistryOptions options);

  // Issues a card: allocates the serial, charges opening fee + deposit (when non-zero),
  // personalises the card (valid today .. +kCardValidityYears, China time) for the device and
  // returns it. Idempotent by card_id: a retry with the same account, device and key returns the
  // same serial and a freshly wrapped profile (the wallet installs it only if the card is not yet
  // on the phone). Errors: kInvalidArgument (an id empty, too long or not [A-Za-z0-9._:-]; a device
  // key that is not a P-256 point); kAlreadyExists (the card_id belongs to another account, device
  // or key); kFailedPrecondition (payment declined: nothing stays registered; or the card_id names
  // a card that is no longer active); kUnavailable (the payment network: retry the same card_id);
  // kOutOfRange (serials exhausted); store errors.
  Result<IssuedCard> IssueCard(const CardRequest& request);

  // Errors: kInvalidArgument (not 20 digits), kNotFound; store errors.
  Result<TransitCardInfo> Card(std::string_view serial) const;
  // Every card of the account, oldest first. Errors: store errors.
  Result<std::vector<TransitCardInfo>> CardsOfAccount(std::string_view account_id) const;
  // The refunds recorded for the account, oldest first. Errors: store errors.
  Result<std::vector<Refund>> RefundsOfAccount(std::string_view account_id) const;

  // The secure-messaging MAC of APPLICATION BLOCK (84 1E 00 00 04) for this card and the card's
  // GET CHALLENGE answer, under the card's maintenance key: the wallet blocks the card in the phone
  // before deleting or migrating it. Errors: kInvalidArgument (challenge not 8 bytes, bad serial),
  // kNotFound (unknown card); crypto errors.
  Result<crypto::PurseMac> BlockMac(std::string_view serial, ByteView challenge) const;

  // Closes an active (or lost) card after the wallet blocked it and read its final balance with
  // GET BALANCE: records refund = balance (if the city refunds balances) + deposit as due to the
  // account, marks the card closed and blacklists it (a cloned copy is then refused at gates).
  // Idempotent: closing a closed card with the same balance returns the same answer.
  // The balance is the wallet's reading; clearing checks it against the card's last records.
  // Errors: kInvalidArgument (balance above the city's cap), kNotFound, kFailedPrecondition (the
  // card is migrated, issuing, or was closed with another balance); store errors.
  Result<ClosedCard> CloseCard(std::string_view serial, std::uint32_t final_balance_fen);

  // A refund. Errors: kNotFound; store errors.
  Result<Refund> RefundById(std::string_view refund_id) const;
  // Pays a "due" refund back to its card on file (TopUpPayment::Refund under the refund id), and
  // records the outcome before returning it: "paid" with the credit's reference, or "due" with
  // last_error when the credit failed (retry later). A "paid" or "unknown" refund is returned as
  // it is, without a message. The registry's lock is not held while the network answers.
  // Errors: kNotFound (unknown refund); kFailedPrecondition (no card on file); kUnavailable (a
  // credit of this refund is already on its way); store errors. A failed credit is not an error:
  // it is in the returned refund.
  Result<Refund> PayRefund(std::string_view refund_id);

  // The phone is lost: the card becomes lost and is blacklisted. Idempotent.
  // Errors: kNotFound; kFailedPrecondition (closed, migrated or issuing); store errors.
  Status ReportLost(std::string_view serial);

  // Moves a card to a new phone of the same account: the old card (active, or lost) becomes
  // migrated and is blacklisted; a new card with a new serial carries `balance_fen` as its opening
  // balance and the old deposit (nothing is charged). For a lost phone the caller passes the
  // balance the operator knows from clearing (see the risk note above). At most the city's
  // migrations_per_year within any kMigrationWindowMillis. Idempotent by request.card_id (a retry
  // returns the same new card with a fresh wrapped profile).
  // Errors: kInvalidArgument (ids, key, balance above the cap); kNotFound (old card);
  // kFailedPrecondition (another account, the old card not active or lost, the yearly limit
  // reached, or migration not offered by the city); kAlreadyExists (card_id used otherwise);
  // store errors.
  Result<IssuedCard> MigrateCard(std::string_view old_serial, const MigrationRequest& request,
                                 std::uint32_t balance_fen);

  // The blacklist gates enforce (Validator::ApplyBlacklist).
  Result<BlacklistSnapshot> Blacklist() const;
  // Adds a serial of this city (clearing calls it for anomalies); a listed serial is left as it is
  // (no new version). Errors: kInvalidArgument (not 20 digits, or reason empty or above
  // kBlacklistReasonBytesMax); store errors.
  Status AddToBlacklist(std::string_view serial, std::string_view reason);

  const CityNetwork& city() const { return *options_.city; }

 private:
  CardRegistry(CardRegistryOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  // The wrapped personalisation of `card` for its device.
  Result<Bytes> Personalise(const TransitCardInfo& card, ByteView device_public_key) const;
  // Authorize and Capture of the fee and deposit of an "issuing" card, then "active".
  Status ChargeIssue(const std::string& serial, std::uint32_t amount_fen,
                     const nlohmann::json& payment_data);
  Result<IssuedCard> Answer(const std::string& serial, ByteView device_public_key,
                            std::uint32_t fee_fen) const;

  // The card on file of the newest payment of `serial` or of the cards it replaced, or nullopt.
  Result<std::optional<std::string>> CardOnFileOf(store::Store& store, std::string serial) const;
  Result<Refund> LoadRefundLocked(std::string_view refund_id) const;

  mutable std::mutex mu_;
  CardRegistryOptions options_;
  const Clock& clock_;
  std::set<std::string, std::less<>> refunds_paying_;  // credits on their way in this process
};

}  // namespace tapstack::transit
