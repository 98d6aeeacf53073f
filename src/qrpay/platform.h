// Platform: one wallet payment platform (the Alipay / WeChat Pay role): stored-value accounts in
// a double-entry ledger, merchant QR payments, one-time payment codes, top-up from and withdrawal
// to bound cards, cross-border payments with FX (own foreign merchants, and merchants of a partner
// platform through the network's QR clearing), tax refunds, cash-in at agents and monthly
// statements.
//
// ## Persistence: one store, one transaction per operation
// One store::Store per platform holds the platform's tables AND its ledger (ledger::StoreLedger on
// the same store). Every operation writes its journal rows and its ledger transfers in ONE store
// transaction (StoreLedger::CreateTransfersInTransaction), so journal and ledger never disagree and
// nothing needs recovery. Concurrent operations share commits through store::GroupCommitter: an
// answer is given only after the transaction holding its effects committed (durable before
// answered). Steps that talk to another system (CardRail, ClearingLink) are split around the call:
// a first transaction records the intent and a pending hold, the call is made outside any lock, a
// second transaction posts or voids; a crash or kUnavailable in between leaves an in-flight row
// that a retry with the same idempotency key drives again (the rail and the clearing are
// idempotent by id).
//
// ## Card charges (top-ups, card payments)
// CompleteTopUp / CompleteCardPayment first commit the order as "charging" together with what it
// claims — a card payment its dynamic order (any other payer, card or balance, is refused from
// then on) and a visitor's USD for the year; a top-up counts against the balance cap with the
// other charging top-ups of the account — and only then ask the rail to charge. A definite
// failure (a decline, payment data refused) releases the claims; the order can be completed
// again. kUnavailable (no answer) leaves the order "charging": a retry of the same Complete call
// asks the rail again with the same order id (the rail answers the first outcome while it
// remembers the order). When a retry's answer is anything but a decline (e.g. the rail restarted
// and no longer knows the order) the outcome is unknown: the call answers kUnavailable saying so
// and the order stays "charging" — such rows are settled by reconciliation with the network
// (an operator's job, not the platform's).
//
// ## Ledger (one ledger per currency: ledger id = ISO 4217 numeric)
// Account ids are the first 16 bytes of SHA-256("tapstack qrpay account" ‖ platform ‖ label), so
// any retry re-derives them. Labels and codes:
//   user:<account id>           1  a wallet balance (debits must not exceed credits)
//   merchant:<merchant id>      2  a merchant's balance, merchant currency (same flag)
//   card-clearing:<CUR>         3  money moving over the card rail (top-ups, withdrawals)
//   fx-position:<CUR>           4  the platform's FX position: a cross-border payment debits the
//                                  payer into fx-position:CNY and credits the merchant from
//                                  fx-position:RUB (two linked transfers)
//   network-clearing:<CUR>      5  positions with the network's QR clearing (partner platforms)
//   refund-operator:<id>        6  a tax refund operator's prefunded account (same flag)
//   operator-funding:<CUR>      7  where prefunding comes from (the operator's bank transfer)
//   fees:<CUR>                  8  fees earned (visitor card fee)
//   agent:<id>                  9  a cash-in agent's prefunded float (same flag)
// Transfer ids: SHA-256("tapstack qrpay transfer" ‖ platform ‖ operation id ‖ leg), the operation
// id itself derived from (operation, actor, idempotency key): a retry can never move money twice.
//
// ## Limits (seed/qrpay.json, 0 = unlimited)
// Per verification level, in the home currency: daily_max_minor and yearly_max_minor on outgoing
// payments (balance QR payments, code payments, cross-border and partner payments; counted from
// the journal per local day / calendar year of the platform's utc_offset_minutes, so they survive
// restarts) and balance_max_minor after a top-up, tax refund or cash-in. Refusals are kOutOfRange
// naming the limit and the numbers ("daily_max_minor: level 1 allows 200000 a day; 150000 spent
// today, 60000 requested"); too small a balance is kFailedPrecondition ("balance: 100 available,
// 200 requested").
//
// ## Idempotency
// Every call that moves money takes an idempotency key (1-128 bytes of [A-Za-z0-9._:-]) scoped to
// the actor (the account, or the merchant for refunds and code payments, the operator for tax
// refunds, the agent for cash-in). The journal remembers each request's digest and its outcome,
// refusals included: the same key with the same request returns the first outcome — a Receipt with
// replayed = true, or the same error Status — and the same key with a different request is
// kAlreadyExists (kKeyReusedMessage).
//
// ## Privacy
// The platform never sees a PAN: cards are device tokens (the funding card keeps the token, its
// expiry and last 4 to credit it back). Merchants see the payer's pseudonymous alias only.
// qrpay_funding_cards.token holds the token number in clear, deliberately: it is a device token
// (EMVCo Payment Tokenisation), not a PAN, and is useless for a purchase without the cryptogram
// that only the device's secure element makes for each order; the platform needs it to credit
// the card (Withdraw). It is never returned by an API (FundingCard has the last 4 only).
//
// ## Thread-safety
// All methods may be called from any thread. Store work runs under one mutex, batched by the group
// committer; calls to the rail, the clearing and the rate source are made outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/amount.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "qrpay/card_rail.h"
#include "qrpay/clearing_link.h"
#include "qrpay/merchant_qr.h"
#include "qrpay/qrpay_config.h"
#include "qrpay/rate_source.h"
#include "store/store.h"

namespace tapstack::qrpay {

inline constexpr std::size_t kIdempotencyKeyBytesMax = 128;
inline constexpr std::size_t kOwnerIdBytesMax = 128;
inline constexpr std::size_t kDeviceIdBytesMax = 64;
inline constexpr std::size_t kReceiptReferenceBytesMax = 64;
inline constexpr std::int64_t kDynamicQrValiditySecondsMax = 86'400;
inline constexpr std::size_t kStatementEntriesMax = 10'000;
inline constexpr std::string_view kKeyReusedMessage =
    "idempotency_key: already used for a different request";

struct PlatformOptions {
  std::string platform_id;              // a platform of `config`
  const QrpayConfig* config = nullptr;  // not owned; must outlive the platform
  std::filesystem::path data_dir;       // SQLite <data_dir>/qrpay_<platform id>.db
  std::unique_ptr<store::Store> store;  // optional: an opened store instead (PostgreSQL)
  crypto::SecretBytes qr_key;           // the platform's QR MAC key, ≥ kMerchantQrKeyBytesMin
  const Clock* clock = nullptr;         // nullptr = SystemClock
  RandomSource* random = nullptr;       // payment codes, quote and order ids; nullptr = Csprng
  CardRail* card_rail = nullptr;        // not owned; null: card operations are refused
  const RateSource* rates = nullptr;    // not owned; null: cross-border and tax refunds refused
  ClearingLink* clearing = nullptr;     // not owned; null: partner merchants are refused
};

struct AccountInfo {
  std::string account_id;  // "a" + 16 lowercase hex, derived from (platform, owner)
  std::string owner_id;
  std::string alias;  // pseudonymous id shown to merchants
  int level = kLevelLowest;
  Amount balance{Cny()};    // posted
  Amount available{Cny()};  // balance − holds (withdrawals and partner payments in flight)
  Amount spent_today{Cny()};
  Amount spent_this_year{Cny()};
  LevelLimits limits;
};

// What the payer's app shows after scanning a merchant code (before anything is paid).
struct ScanResult {
  bool dynamic = false;
  std::string platform_id;  // the acquiring platform
  std::string merchant_id;
  std::string merchant_name;
  std::string city;
  std::string country;
  std::optional<Amount> amount;  // dynamic codes
  const Currency* currency = nullptr;
  std::string order_id;
  bool foreign = false;  // merchant currency ≠ home currency, or another platform's code
  std::optional<FxConversion> quote_preview;  // foreign with an amount: what it would cost now
};

struct Quote {
  std::string quote_id;  // "q" + 32 hex
  std::string account_id;
  std::string merchant_id;
  std::string merchant_name;
  std::string payee_platform;
  Amount merchant_amount{Cny()};
  Amount payer_amount{Cny()};  // markup included
  std::string rate;            // decimal text of the published rate (1 merchant unit = rate home)
  std::int64_t markup_bps = 0;
  std::string rate_source;
  std::string business_date;
  std::int64_t expires_unix_ms = 0;
};

// The outcome of every call that moves money.
struct Receipt {
  std::string receipt_id;  // the operation id: 32 lowercase hex
  // qr_payment code_payment cross_border_payment partner_payment refund top_up withdrawal
  // tax_refund card_payment cash_in
  std::string kind;
  std::string account_id;
  std::string merchant_id;
  std::string merchant_name;
  std::string payee_platform;  // partner payments
  std::string payment_id;      // refunds: the payment refunded (its receipt id)
  Amount amount{Cny()};        // the merchant / counterparty side (merchant currency)
  Amount payer_amount{Cny()};  // the account's side (home currency); fees included
  Amount fee{Cny()};
  std::string rate;  // decimal text; empty when no conversion
  std::int64_t markup_bps = 0;
  std::string reference;  // rail reference, payee payment id, receipt reference, card id
  std::int64_t created_unix_ms = 0;
  bool replayed = false;
};

struct FundingCard {
  std::string card_id;  // "c" + 16 hex
  std::string token_last4;
  std::string token_expiry;  // YYMM
};

struct PaymentCode {
  std::string code;  // 18 digits
  std::int64_t expires_unix_ms = 0;
};

struct StatementEntry {
  std::int64_t unix_ms = 0;
  std::string kind;          // as Receipt::kind
  std::string counterparty;  // merchant name, "card ...1234", operator or agent name…
  std::string receipt_id;
  Amount amount{Cny()};  // signed: credits positive
  Amount balance_after{Cny()};
};

struct Statement {
  std::string account_id;
  std::string month;  // YYYY-MM (local time of the platform)
  Amount opening_balance{Cny()};
  std::vector<StatementEntry> entries;
  Amount closing_balance{Cny()};
};

struct SettlementLine {
  std::string merchant_id;
  std::string business_date;  // YYYY-MM-DD local
  std::string receipt_id;
  std::string kind;
  Amount merchant_amount{Cny()};
  Amount payer_amount{Cny()};
  std::string rate;
  std::int64_t markup_bps = 0;
};

struct SettlementReport {
  std::string merchant_id;
  std::string business_date;
  const Currency* merchant_currency = nullptr;
  std::vector<SettlementLine> lines;
  Amount merchant_total{Cny()};      // Σ merchant amounts (payments; refunds subtracted)
  std::vector<Amount> payer_totals;  // Σ payer amounts per payer currency
};

struct PlatformAudit {
  std::int64_t ledger_accounts = 0;
  std::int64_t journal_entries = 0;
  std::vector<Amount> user_balances;  // Σ per currency
};

class Platform {
 public:
  // Opens (or creates) the store, applies the schema, creates the fixed ledger accounts and those
  // of the config's merchants of this platform, prefunds its refund operators and cash-in agents
  // (once). The store may be SQLite (data_dir) or any opened store::Store (PostgreSQL).
  // Errors: kInvalidArgument (options: unknown platform, short key), the store's.
  static Result<std::unique_ptr<Platform>> Open(PlatformOptions options);
  ~Platform();

  const std::string& id() const;
  const PlatformInfo& info() const;

  // ---- 1. Accounts ----
  // Opens the account of `owner_id` (1-128 bytes) at `level` (1-3) in `home_currency`, which must
  // be the platform's currency. Same owner again with the same level → the same account; another
  // level → kAlreadyExists. Errors: kInvalidArgument.
  Result<AccountInfo> OpenAccount(std::string_view owner_id, const Currency& home_currency,
                                  int level);
  // Errors: kNotFound.
  Result<AccountInfo> Account(std::string_view account_id);
  // The merchant's balance. Errors: kNotFound (not a merchant of this platform).
  Result<Amount> MerchantBalance(std::string_view merchant_id);

  // ---- 2. Merchant QR ----
  // Errors: kNotFound (merchant); kInvalidArgument (as MakeDynamicMerchantQr; validity 1-86400 s).
  Result<std::string> MerchantStaticQr(std::string_view merchant_id);
  Result<std::string> MerchantDynamicQr(std::string_view merchant_id, std::string_view order_id,
                                        const Amount& amount, std::int64_t validity_seconds);
  // Decodes a scanned payload for display. Errors: kInvalidArgument (as ReadMerchantQr).
  Result<ScanResult> Scan(std::string_view payload);
  // Pays an own merchant in the home currency from the balance. `amount` is required for a
  // static code and must be absent (or equal) for a dynamic one. Errors: kInvalidArgument;
  // kCryptoFailure (tampered); kFailedPrecondition (expired, order already paid, balance, a
  // foreign merchant: use Quote/PayQuote); kOutOfRange (limits); kNotFound; kAlreadyExists (key).
  Result<Receipt> PayMerchantQr(std::string_view account_id, std::string_view payload,
                                std::optional<Amount> amount, std::string_view idempotency_key);
  // Refunds (part of) a payment to its payer; several refunds never exceed the payment in total.
  // Partner and card payments are not refundable here (kFailedPrecondition). Errors: kNotFound,
  // kInvalidArgument (amount currency), kOutOfRange (more than what is left), kAlreadyExists.
  Result<Receipt> RefundPayment(std::string_view merchant_id, std::string_view payment_id,
                                const Amount& amount, std::string_view idempotency_key);

  // ---- 3. Cards ----
  // Starts a top-up: what the app's secure element needs. Errors: kFailedPrecondition (no rail),
  // kOutOfRange (balance cap), the rail's.
  Result<CardPaymentRequest> StartTopUp(std::string_view account_id, const Amount& amount,
                                        std::string_view device_id);
  // Charges the card and credits the balance; idempotent by order (a completed order replays).
  // The balance cap is checked again before charging (other top-ups may have completed or be
  // charging). Remembers the token that paid as a funding card. Errors: kNotFound (order),
  // kOutOfRange (balance cap: nothing charged), kUnavailable (the order is "charging": retry the
  // call; or its outcome is unknown, see "Card charges"), the rail's.
  Result<Receipt> CompleteTopUp(std::string_view order_id, const nlohmann::json& payment_data);
  Result<std::vector<FundingCard>> FundingCards(std::string_view account_id);
  // Holds the amount, credits the card over the rail, posts (or voids on a definite refusal).
  // Errors: kUnavailable (the rail did not answer: the hold stays, retry with the same key),
  // kFailedPrecondition (balance; refused by the rail, the hold voided), kNotFound (card).
  Result<Receipt> Withdraw(std::string_view account_id, std::string_view card_id,
                           const Amount& amount, std::string_view idempotency_key);

  // ---- 4. Cross-border ----
  // Prices a foreign-currency (or partner) merchant's code for the account: merchant amount →
  // home currency with the markup, valid for the config's quote_validity_seconds. Errors:
  // kFailedPrecondition (no rate source; the merchant is in the home currency and ours: use
  // PayMerchantQr), the rate source's, as Scan.
  Result<Quote> QuoteMerchantQr(std::string_view account_id, std::string_view payload,
                                std::optional<Amount> amount);
  // Pays a quote. Own merchant: payer → fx-position (home), fx-position (merchant) → merchant.
  // Partner merchant: hold payer → network-clearing, qr_payment through the ClearingLink, post on
  // approval, void on a decline (kFailedPrecondition with the payee's reason) or on any definite
  // error of the clearing link (kFailedPrecondition naming it); kUnavailable (no answer, or an
  // answer without a status) leaves the hold (retry with the same key). A refused payment leaves
  // the quote unused. Errors as PayMerchantQr, plus kFailedPrecondition (quote expired or of
  // another account).
  Result<Receipt> PayQuote(std::string_view account_id, std::string_view quote_id,
                           std::string_view idempotency_key);
  // The payee side of a partner payment (the JSON of clearing_link.h): verifies the code (MAC,
  // expiry, single use), credits the merchant from network-clearing, answers approved/declined.
  // The same clearing_id gets the first answer again. Never fails: a malformed request is
  // declined naming the member.
  nlohmann::json HandleClearing(const nlohmann::json& request);
  // Every payment and refund of the merchant on that local day, both sides.
  // Errors: kNotFound (merchant), kInvalidArgument (date not YYYY-MM-DD).
  Result<SettlementReport> Settlement(std::string_view merchant_id, std::string_view business_date);

  // ---- 5. Payment codes ----
  // A fresh one-time code for the account, valid kPaymentCodeValiditySeconds.
  Result<PaymentCode> IssuePaymentCode(std::string_view account_id, std::string_view device_id);
  // A merchant's scanner pays with a code, in the merchant's currency; a merchant abroad (RUB,
  // GBP…) is paid through the FX positions and the payer charged in the home currency at the
  // network's rate plus the markup (on the receipt). Errors: kNotFound (unknown code, merchant),
  // kInvalidArgument (amount not in the merchant's currency), kFailedPrecondition (expired,
  // already used, balance), kOutOfRange (limits), kAlreadyExists (key).
  Result<Receipt> PayByPaymentCode(std::string_view merchant_id, std::string_view code,
                                   const Amount& amount, std::string_view idempotency_key);

  // ---- 6. Tax refund ----
  // Converts `refund` (EUR, GBP…) into the home currency at the network's rate, no markup, and
  // credits the account from the operator's prefunded account. A receipt reference is refunded
  // once (kAlreadyExists naming it, whatever the key). Errors: kNotFound (operator, account),
  // kFailedPrecondition (operator's funds, no rate source), kOutOfRange (balance cap).
  Result<Receipt> TaxRefund(std::string_view operator_id, std::string_view account_id,
                            std::string_view receipt_reference, const Amount& refund,
                            std::string_view idempotency_key);

  // ---- 8. Cards bound by visitors ----
  // A QR payment to an own home-currency merchant funded by a card instead of the balance. A card
  // issued outside visitor_cards.home_country (the country the app learnt when the card was bound)
  // is a visitor's card: its payments are limited per transaction and per local calendar year in
  // USD (converted at the network's rate, no markup; the yearly counter is the journal's) and pay
  // a fee of fee_bps on the whole payment when it is above fee_free_up_to_minor (Ministry of
  // Commerce 2024: free up to CNY 200, 3% above). The card is charged amount + fee; the merchant
  // gets the amount, the fee goes to fees:<CUR>. Errors: as PayMerchantQr (code checks),
  // kOutOfRange (per_transaction_max_usd_minor / yearly_max_usd_minor, naming the numbers),
  // kFailedPrecondition (no card rail), the rail's.
  Result<CardPaymentRequest> StartCardPayment(std::string_view account_id, std::string_view payload,
                                              std::optional<Amount> amount,
                                              std::string_view card_issuer_country,
                                              std::string_view device_id);
  // Charges the card and pays the merchant; idempotent by order. The code's expiry, the dynamic
  // order (kFailedPrecondition "order_id: ... already paid or is being paid") and the yearly
  // limit are checked again and claimed before charging. Errors: kNotFound (order), as
  // StartCardPayment, kUnavailable (as CompleteTopUp), the rail's.
  Result<Receipt> CompleteCardPayment(std::string_view order_id,
                                      const nlohmann::json& payment_data);

  // ---- 9. Agent cash-in ----
  // The user paid `amount` (home currency) in cash to the agent, which credits it to the account
  // from its prefunded float (the config's agents of this platform). Idempotent per agent and
  // key. Errors: kNotFound (agent_id not an agent of this platform, account_id),
  // kInvalidArgument (amount not > 0 in the home currency, key), kFailedPrecondition ("agent
  // funds: N available, M requested"), kOutOfRange (balance_max_minor), kAlreadyExists (key).
  Result<Receipt> CashIn(std::string_view agent_id, std::string_view account_id,
                         const Amount& amount, std::string_view idempotency_key);

  // ---- 7. Statement ----
  // `month` is YYYY-MM in the platform's local time. Errors: kNotFound, kInvalidArgument.
  Result<Statement> MonthlyStatement(std::string_view account_id, std::string_view month);

  // ---- Audit ----
  // The ledger's own audit; per currency Σ (credits − debits) posted over every account = 0; every
  // user and merchant account's journal (Σ entries and last balance_after) equals its ledger
  // balance. Errors: kInternal naming the first difference.
  Result<PlatformAudit> Audit();

 private:
  struct Impl;
  explicit Platform(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapstack::qrpay
