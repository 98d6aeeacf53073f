// Operator: one authorised operator (a bank) of the two-tier e-CNY model — wallets, tiers,
// exchange with bank deposits, online payments, offline-purse funding — over its own durable
// ledger (ledger::Ledger "operator_<id>") and its own store (dcep/operator_store.h).
//
// ## Ledger (chart of accounts in dcep/ledger_ids.h, all on kEcnyLedgerId)
//   central_bank_position  mirror of the position at the central bank (debit balance)
//   float                  e-CNY received from the central bank, not yet in a wallet
//   wallet W               one per wallet, DebitsMustNotExceedCredits
//   offline purse of D     one per hardware wallet (device id D)
//   escrow of contract C   one per conditional payment (dcep/contract_book.h)
// Exchange from a deposit: float → wallet ("redeem to deposit": wallet → float); the bank-deposit
// side is the bank's core system, not modelled. RequestIssuance: the central bank issues, then
// central_bank_position → float. Invariant: central_bank_position's debit balance == Σ wallets +
// purses + escrows + float == the position at the central bank whenever nothing is in flight
// (Audit).
//
// ## Payments
// Same operator: one ledger transfer payer → payee. Other operator (an outbox entry):
//   1. journal row (in_flight, accepted) + pending hold payer → central_bank_position
//   2. CentralBankClient::Settle(me → payee's operator)
//   3. InterbankPeers::CreditIncoming at the payee's operator
//   4. post the hold; the row becomes posted.
// A definite refusal at 2 voids the hold; at 3 the row becomes "reversing", the central bank
// reverses the settlement and the hold is voided (row failed).
// Offline settlement across operators (MovePurseValue / CoverOfflineLoss with a payee device of
// another operator) is the same outbox entry: kind purse_move_out (hold on the payer's offline
// purse) or offline_loss_cover_out (hold on the float), credited at the payee's operator as
// purse_move_in / offline_loss_cover_in into the payee device's purse (IncomingCredit with
// payee_device). A transient failure leaves the
// row in flight and the call answers kUnavailable; RecoverInterbank (run by Open) or a retry with
// the same key re-drives it — every step is idempotent (derived ids), so a crash between any two
// steps is recovered without moving money twice.
//
// ## Limits (seed/dcep.json tiers; 0 = unlimited)
// payment_max_fen and daily_max_fen of the payer (payments to wallets and merchants, counted per
// China-standard day — UTC+8 — from the journal, so they survive restart: Open sums today's rows),
// balance_max_fen of the receiving wallet (payments, exchange in). Refusals are kOutOfRange with a
// message naming the limit, the tier and the amounts ("daily_max_fen: tier 4 allows 500000 fen a
// day; 400000 spent today, 200000 requested"); an empty wallet is kFailedPrecondition
// ("balance: 100 fen available, 200 requested"). The payee's balance is never revealed to the
// payer.
//
// ## Merchant orders
// A payment may name the merchant's order it pays (PaymentOrder::merchant_order_id). Each
// operator keeps a register (merchant, order) → the entry that paid it, written in the same
// journal transaction as the payment: the merchant's operator registers every payment of its
// merchants' orders (its wallets' and the credits from other operators), a payer's operator its
// wallets' payments to other operators' merchants. A further payment of a paid order (posted or
// in flight) from the same wallet for the same amount answers the first entry (replayed); any
// other is kAlreadyExists ("merchant_order_id: order ... is already paid"), which at the
// merchant's operator's CreditIncoming is a definite refusal, so the payer's operator reverses
// its settlement. A refused or failed payment leaves the order unpaid. The idempotency key stays the caller's: a payer refused for
// balance may top up and pay the same order again.
//
// ## Idempotency
// Every call that changes state takes an idempotency key (1-128 bytes). The ledger transfer id is
// derived from (operation, wallet, key); the journal row remembers the request's digest and the
// outcome, refusals included: the same key with the same request returns the first outcome (also
// a refusal) with replayed = true; with a different request kAlreadyExists (kKeyReusedMessage).
//
// ## Durability and recovery
// Durable before answered: the journal row commits (SQLite synchronous=FULL), then the ledger
// transfer (fdatasync). Open re-submits the transfers of the last batch of rows (the only ones
// that can be missing after a crash), rebuilds balances from the ledger and today's spending from
// the journal, then re-drives in-flight outbox entries.
//
// ## Thread-safety
// All methods may be called from any thread; local commits are serialised by one mutex (batches
// amortise the syncs: PayBatch). Interbank steps run outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "dcep/central_bank_client.h"
#include "dcep/interbank.h"
#include "dcep/ledger_ids.h"
#include "dcep/offline_purses.h"
#include "dcep/tiers.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace tapstack::dcep {

class ContractBook;

inline constexpr std::size_t kWalletIdChars = 17;  // "w" + 16 lowercase hex
inline constexpr std::size_t kDeviceIdBytesMax = 64;
inline constexpr std::size_t kPhoneDigitsMin = 5;
inline constexpr std::size_t kPhoneDigitsMax = 15;  // ITU-T E.164
inline constexpr std::size_t kHistoryPageMax = 200;
inline constexpr std::size_t kMerchantOrderIdBytesMax = 25;  // EMV QRCPS MPM 62.01 (bill number)
inline constexpr std::size_t kPayBatchMax = ledger::kBatchEventsMax;
inline constexpr std::int64_t kMillisPerDay = 86'400'000;
inline constexpr std::int64_t kChinaStandardOffsetMillis = 8 * 3'600'000;  // UTC+8, no DST

// YYYYMMDD of the China-standard day holding `unix_millis`.
std::int64_t ChinaStandardDay(std::int64_t unix_millis);

// "w" + 16 hex of SHA-256("tapstack dcep merchant wallet" ‖ operator ‖ merchant): merchants are
// public, so every operator can name a merchant's wallet without asking.
std::string MerchantWalletId(std::string_view operator_id, std::string_view merchant_id);

// kInvalidArgument unless "w" + 16 lowercase hex; the message starts "<field>: ".
Status CheckWalletId(std::string_view field, std::string_view wallet_id);
// kInvalidArgument unless 1-64 of a-z 0-9 - _ (device::DeviceStore::CheckDeviceId's rule).
Status CheckDeviceId(std::string_view field, std::string_view device_id);

// What the holder proved. Tier: in_person with name + ID → 1; name + ID + bank account → 2;
// name + ID → 3; phone only → 4.
struct TierEvidence {
  std::string phone;         // digits, optional leading '+'; required
  std::string name;          // real name (tiers 1-3)
  std::string id_number;     // resident ID; only its SHA-256 is stored
  std::string bank_account;  // linked account (tier 2); stored masked (last 4)
  bool in_person = false;    // checked at a counter (tier 1)
};
int TierOf(const TierEvidence& evidence);

struct WalletInfo {
  std::string wallet_id;
  std::string operator_id;
  int tier = kTierLowest;
  std::int64_t balance_fen = 0;    // posted
  std::int64_t available_fen = 0;  // balance − outgoing payments in flight
  std::int64_t spent_today_fen = 0;
  std::string merchant_id;  // empty for personal wallets
  TierLimits limits;
};

// What a counterparty may see (controllable anonymity, white paper §3.2.5): tier 4 wallets show
// the pseudonymous id only; tiers 3-2 add the masked name ("张*") and masked phone
// ("138****5678"); tier 1 (and merchants) the full name.
struct CounterpartyView {
  std::string wallet_id;
  std::string operator_id;
  int tier = kTierLowest;
  std::optional<std::string> name;
  std::optional<std::string> phone;
  std::optional<std::string> merchant_id;
};

// A payment order. Payee: a wallet (payee_operator empty = this operator) or a merchant.
struct PaymentOrder {
  std::string payer_wallet;
  std::string payee_operator;
  std::string payee_wallet;
  std::string merchant_id;  // when set, the payee is the merchant's wallet (payee_* empty)
  std::int64_t amount_fen = 0;
  std::string idempotency_key;
  // With merchant_id: the merchant's order this pays (a dynamic QR code's 62.01, 1-25 of
  // A-Z a-z 0-9 -). The merchant's operator pays each order once (see "Merchant orders").
  std::string merchant_order_id;
};

// One journal entry as the API shows it.
struct Entry {
  std::string entry_id;  // 32 hex: the ledger transfer id
  std::int64_t seq = 0;
  std::string kind;  // exchange_in exchange_out payment interbank_out interbank_in purse_fund
                     // purse_defund issue redeem contract_lock contract_release contract_refund
                     // purse_move purse_unload offline_loss_cover purse_move_out purse_move_in
                     // offline_loss_cover_out offline_loss_cover_in
  std::string status;  // posted refused in_flight failed
  std::string debit_wallet;
  std::string credit_wallet;
  std::string counter_operator;
  std::string counter_wallet;
  std::string counter_device;  // purse_move_in/out, offline_loss_cover_in/out: the other
                               // operator's device (payee device out, payer device in)
  std::string merchant_id;
  std::string device_id;  // purse kinds: this operator's device (payer out, payee in)
  std::string contract_id;  // contract_* kinds
  std::int64_t amount_fen = 0;
  std::int64_t created_unix_ms = 0;
  std::string error_code;  // refused/failed
  std::string reason;
  bool replayed = false;  // this answer repeats a first outcome
};

struct HistoryPage {
  std::vector<Entry> entries;   // newest first
  std::int64_t next_before = 0;  // pass as `before_seq` for the next page; 0 = no more
};

struct OperatorAudit {
  std::int64_t position_fen = 0;  // central_bank_position's debit balance (posted)
  std::int64_t float_fen = 0;
  std::int64_t wallets_fen = 0;
  std::int64_t purses_fen = 0;
  std::int64_t escrows_fen = 0;  // value locked under active contracts
  std::int64_t holds_fen = 0;    // outgoing interbank/redeem holds not yet posted
  std::int64_t in_flight = 0;    // outbox entries in flight
  std::int64_t wallets = 0;
};

struct OperatorOptions {
  std::string operator_id;
  std::filesystem::path data_dir;  // ledger operator_<id>.wal, store dcep_<id>.db
  std::string postgres_url;        // optional: the store in PostgreSQL
  const DcepConfig* config = nullptr;          // not owned; must outlive the operator
  CentralBankClient* central_bank = nullptr;   // not owned; required
  InterbankPeers* peers = nullptr;             // not owned; null = no inter-operator payments
  const Clock* clock = nullptr;                // nullptr = SystemClock
  RandomSource* random = nullptr;              // wallet ids; nullptr = crypto::Csprng
  crypto::SecretBytes id_key;                  // empty = DemoDcepIdKey("operator_<id>")
  bool recover_at_open = true;                 // run RecoverInterbank in Open
  // The ledger log grows in zero-filled chunks of this size (ledger::LedgerOptions).
  std::uint64_t ledger_preallocate_bytes = ledger::kLogPreallocateBytesDefault;
  // How the ledger's log file is opened; empty = the POSIX file (the simulator fails it here).
  ledger::LogFileOpener open_ledger_file;
};

class Operator final : public OfflinePurses {
 public:
  // Opens ledger and store, creates the fixed accounts and the wallets of the config's merchants
  // of this operator, recovers (see above). Errors: kInvalidArgument (options), ledger/store.
  static Result<std::unique_ptr<Operator>> Open(OperatorOptions options);
  ~Operator();
  Status Close();

  const std::string& id() const { return id_; }

  // ---- Wallets ----
  // Opens a wallet at TierOf(evidence). Same key + same evidence → the same wallet id.
  // Errors: kInvalidArgument (phone, key), kAlreadyExists (phone has a wallet; key reused).
  Result<WalletInfo> OpenWallet(const TierEvidence& evidence, std::string_view idempotency_key);
  // Raises (or lowers) the tier to TierOf(evidence); the phone must match the wallet's.
  // Errors: kNotFound, kInvalidArgument (phone differs), kOutOfRange (balance above the new
  // tier's cap), kAlreadyExists (key reused).
  Result<WalletInfo> UpgradeTier(std::string_view wallet_id, const TierEvidence& evidence,
                                 std::string_view idempotency_key);
  Result<WalletInfo> Wallet(std::string_view wallet_id);
  Result<CounterpartyView> ViewForCounterparty(std::string_view wallet_id);

  // ---- Exchange with deposits ----
  // Deposit → e-CNY into the wallet (float → wallet); `to_deposit` reverses it.
  // Errors: kNotFound, kOutOfRange (balance cap), kFailedPrecondition (float or balance too
  // small), kAlreadyExists (key reused).
  Result<Entry> Exchange(std::string_view wallet_id, std::int64_t amount_fen, bool to_deposit,
                         std::string_view idempotency_key);

  // ---- Payments ----
  // Errors: kInvalidArgument, kNotFound (wallet, merchant), kOutOfRange (a limit),
  // kFailedPrecondition (balance), kAlreadyExists (key), kUnavailable (interbank in flight: retry
  // the same key or wait for RecoverInterbank), kIoError.
  Result<Entry> Pay(const PaymentOrder& order);
  // The entry a Pay of `order` already made under its idempotency key, without paying: nullopt
  // when the key was not used for this order (unused, or used for another request); the stored
  // refusal when that payment was refused. For a caller that may only replay now (a retry after
  // its QR code expired). Errors: as Pay's input checks, the refusal, kIoError.
  Result<std::optional<Entry>> FindPayment(const PaymentOrder& order);
  // Same-operator payments in one journal commit and one ledger batch (≤ kPayBatchMax);
  // inter-operator orders in the batch are accepted together and then driven one by one.
  // Errors of the whole call: kInvalidArgument (batch too large), kIoError; else one Result each.
  Result<std::vector<Result<Entry>>> PayBatch(std::span<const PaymentOrder> orders);
  // The payee side of an inter-operator payment (called through InterbankPeers): credits
  // payee_wallet, or with payee_device set (offline settlement) the offline purse of that device
  // (it must exist here: created by RegisterDevice at certification). Idempotent per
  // (from_operator, payment_id). Errors (definite refusals, the payer's operator reverses):
  // kInvalidArgument (fields), kNotFound (wallet; "payee_device: no offline purse ..."),
  // kOutOfRange (balance cap), kAlreadyExists (payment id reused with another body).
  Result<CreditResult> CreditIncoming(const IncomingCredit& credit);

  // ---- Offline purses (sub-wallets on hardware wallets) ----
  // wallet → "offline purse of device D" (the purse is created on first funding and belongs to
  // that wallet); Defund moves value back. Errors: kNotFound, kFailedPrecondition (balance, purse
  // of another wallet), kAlreadyExists (key reused).
  Result<Entry> FundOfflinePurse(std::string_view wallet_id, std::string_view device_id,
                                 std::int64_t amount_fen, std::string_view idempotency_key);
  Result<Entry> DefundOfflinePurse(std::string_view wallet_id, std::string_view device_id,
                                   std::int64_t amount_fen, std::string_view idempotency_key);
  Result<std::int64_t> OfflinePurseBalance(std::string_view device_id);

  // Binds `device_id`'s offline purse to `wallet_id` (creating the empty purse) when the device
  // is certified, so that it can receive offline value before it was ever funded. Idempotent.
  // Errors: kNotFound (wallet), kAlreadyExists (the purse belongs to another wallet).
  Status RegisterDevice(std::string_view wallet_id, std::string_view device_id);

  // ---- OfflinePurses (dcep/offline_purses.h): how offline settlement moves value ----
  // Same operator: a purse move is journalled as kind "purse_move" between the two purse owners'
  // wallets (their histories show it); a loss cover ("offline_loss_cover") is paid from the
  // operator's own float, so covering a double spend never creates value.
  // A payee device of another operator: the inter-operator path of Pay (see Payments above),
  // "purse_move_out" in the payer purse owner's history and "purse_move_in" in the payee purse
  // owner's history at the other operator ("offline_loss_cover_out" from the float /
  // "offline_loss_cover_in"). While the entry is in flight the amount is held (PurseBalance
  // answers the purse minus holds) and the call answers kUnavailable: settlement retries with the
  // same key. A definite refusal by the payee's operator reverses the settlement and voids the
  // hold; the call (and every retry with that key) answers the payee operator's error code with
  // "payee operator <id> refused: ..." (kNotFound for an unknown payee device). kNotFound for
  // an operator not in the config; kFailedPrecondition when no InterbankPeers is configured.
  Status MovePurseValue(std::string_view payer_device_id, std::string_view payee_device_id,
                        std::string_view payee_operator_id, std::int64_t amount_fen,
                        std::string_view idempotency_key) override;
  // Up to kPayBatchMax moves (more: each answers kInvalidArgument); the moves within this
  // operator in one journal commit and one ledger batch, the others driven one by one after.
  std::vector<Status> MovePurseValues(std::span<const PurseMove> moves) override;
  Status UnloadPurseValue(std::string_view device_id, std::int64_t amount_fen,
                          std::string_view idempotency_key) override;
  Status CoverOfflineLoss(std::string_view payee_device_id, std::string_view payee_operator_id,
                          std::int64_t amount_fen, std::string_view idempotency_key) override;
  // Posted balance minus outgoing holds (what can be moved now).
  Result<std::int64_t> PurseBalance(std::string_view device_id) override;

  // ---- With the central bank ----
  // Asks the central bank to issue `amount_fen` against this operator's reserve, into float.
  Result<Entry> RequestIssuance(std::int64_t amount_fen, std::string_view idempotency_key);
  // Returns float e-CNY to the central bank (redemption against the reserve).
  Result<Entry> RedeemToCentralBank(std::int64_t amount_fen, std::string_view idempotency_key);
  // Re-drives every in-flight outbox entry; returns how many are still in flight.
  Result<std::int64_t> RecoverInterbank();

  // ---- Reading ----
  // Newest first; before_seq 0 = from the newest; limit 1..kHistoryPageMax.
  Result<HistoryPage> History(std::string_view wallet_id, std::int64_t before_seq,
                              std::size_t limit);
  // The ledger's audit, then position == float + wallets + purses + escrows (+ holds), and each
  // active contract's escrow balance == its LockedFen. Errors: kInternal.
  Result<OperatorAudit> Audit();

  // ---- Conditional payments (dcep/contract_book.h) ----
  // The operator's contracts; valid as long as the operator. Open reconciles them with the
  // journal and runs ContractBook::ExpireContracts.
  ContractBook& contracts();

 private:
  struct Impl;
  explicit Operator(std::unique_ptr<Impl> impl);
  Result<CreditResult> CreditIncomingToPurse(const IncomingCredit& credit);
  std::unique_ptr<Impl> impl_;
  std::string id_;
};

}  // namespace tapstack::dcep
