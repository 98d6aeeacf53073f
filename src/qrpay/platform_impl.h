// Internal to the platform (src/qrpay/platform*.cc): Platform::Impl, the state every area of the
// platform shares (store, ledger, group committer, config, injected clock/random/rail/rates/
// clearing), and the helpers the areas have in common: derived ids, the ledger chart, limits, and
// the idempotent operation runner. One .cc per area defines the public calls (platform.h) and the
// Impl methods only that area uses. Thread-safety as Platform: store work under store_mu through
// the committer; calls to the rail, the clearing and the rate source outside it.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/csprng.h"
#include "ledger/store_ledger.h"
#include "qrpay/platform.h"
#include "qrpay/platform_store.h"
#include "store/group_commit.h"

namespace tapstack::qrpay::internal {

__extension__ typedef __int128 Int128;  // products of two int64 amounts

inline constexpr std::int64_t kMillisPerSecond = 1000;
inline constexpr std::int64_t kMillisPerMinute = 60'000;
inline constexpr std::int64_t kMillisPerDay = 86'400'000;
inline constexpr std::size_t kCardOrderIdBytesMax = 64;  // top-up and card payment orders

// Ledger account codes (the chart in platform.h).
inline constexpr std::uint16_t kCodeUser = 1;
inline constexpr std::uint16_t kCodeMerchant = 2;
inline constexpr std::uint16_t kCodeCardClearing = 3;
inline constexpr std::uint16_t kCodeFxPosition = 4;
inline constexpr std::uint16_t kCodeNetworkClearing = 5;
inline constexpr std::uint16_t kCodeRefundOperator = 6;
inline constexpr std::uint16_t kCodeOperatorFunding = 7;
inline constexpr std::uint16_t kCodeFees = 8;
inline constexpr std::uint16_t kCodeAgent = 9;

// Transfer codes (the reason of a movement).
inline constexpr std::uint16_t kTransferPayment = 1;
inline constexpr std::uint16_t kTransferRefund = 2;
inline constexpr std::uint16_t kTransferTopUp = 3;
inline constexpr std::uint16_t kTransferWithdrawal = 4;
inline constexpr std::uint16_t kTransferTaxRefund = 5;
inline constexpr std::uint16_t kTransferClearing = 6;
inline constexpr std::uint16_t kTransferPrefund = 7;
inline constexpr std::uint16_t kTransferCashIn = 8;

std::string LowerHex(ByteView bytes);
Bytes ToBytes(std::string_view text);
// SHA-256 over the parts joined by 0x1F (a separator no part contains).
Result<Bytes> Digest(std::initializer_list<std::string_view> parts);
// The first 16 bytes of Digest(parts), big-endian.
Result<ledger::Id128> DerivedId(std::initializer_list<std::string_view> parts);
Bytes IdBytes(ledger::Id128 id);

// kInvalidArgument unless 1-128 bytes of [A-Za-z0-9._:-].
Status CheckKey(std::string_view key);
// kInvalidArgument naming `field` unless 1-bytes_max of [A-Za-z0-9._:-].
Status CheckText(std::string_view field, std::string_view value, std::size_t bytes_max);

nlohmann::json AmountJson(const Amount& amount);
Result<Amount> AmountFromJson(const nlohmann::json& value, std::string_view field);
Result<const Currency*> CurrencyFromNumeric(std::int64_t numeric);
// The decimal text of mantissa × 10^-scale ("0.0780").
std::string RateText(std::int64_t mantissa, int scale);

// The errors a request's own content or the platform's state explains: remembered under the
// idempotency key and answered again. Failures of the machinery (store, rail) are not.
bool IsRefusal(ErrorCode code);

}  // namespace tapstack::qrpay::internal

namespace tapstack::qrpay {

struct Platform::Impl {
  using AccountRow = internal::AccountRow;
  using OpRow = internal::OpRow;
  using Store = store::Store;

  std::string id;
  const QrpayConfig* config = nullptr;
  const PlatformInfo* info = nullptr;
  std::unique_ptr<Store> store;
  std::mutex store_mu;
  std::unique_ptr<store::GroupCommitter> committer;
  std::unique_ptr<ledger::StoreLedger> ledger;
  crypto::SecretBytes qr_key;
  const Clock* clock = nullptr;
  std::unique_ptr<crypto::Csprng> own_random;
  RandomSource* random = nullptr;
  std::mutex random_mu;
  CardRail* rail = nullptr;
  const RateSource* rates = nullptr;
  ClearingLink* clearing = nullptr;

  // ---- platform.cc: time, ids, randomness ----
  const Currency& home() const { return *info->currency; }
  std::int64_t NowMs() const { return clock->NowUnixMillis(); }
  // YYYYMMDD of the platform's local day holding `unix_ms`.
  std::int64_t LocalDay(std::int64_t unix_ms) const;
  Result<ledger::Id128> LedgerId(std::string_view label) const;
  Result<std::string> OpId(std::string_view kind, std::string_view actor,
                           std::string_view key) const;
  // `bytes` fresh random bytes as lowercase hex (order and quote ids).
  Result<std::string> RandomHex(std::size_t bytes);

  // ---- platform.cc: checks shared by the areas ----
  Result<const MerchantProfile*> OwnMerchant(std::string_view merchant_id) const;
  const LevelLimits& Limits(int level) const;
  // kFailedPrecondition when the platform was opened without a card rail.
  Status NeedRail() const;
  // kInvalidArgument unless `amount` is > 0 in the home currency.
  Status CheckHomeAmount(const Amount& amount) const;

  // ---- platform.cc: ledger ----
  Result<ledger::Transfer> MakeTransfer(std::string_view op_id, std::string_view leg,
                                        std::string_view debit_label, std::string_view credit_label,
                                        const Amount& amount, std::uint16_t code,
                                        std::uint16_t flags = 0);
  // Applies `transfers` in the open transaction; any refusal is a bug (balances were checked).
  Status ApplyTransfers(Store& tx, const std::vector<ledger::Transfer>& transfers);
  // Posts (post = true) or voids the pending `hold` of the op (legs "post" / "void").
  Status SettleHold(Store& tx, std::string_view op_id, const ledger::Transfer& hold, bool post);
  Status CreateLedgerAccount(Store& tx, std::string_view label, const Currency& currency,
                             std::uint16_t code, bool must_not_overdraw);
  // Moves `minor` of the home currency from operator-funding into `label` once per `funded_id`
  // (the transfer id is derived from it, so reopening the platform does not fund again).
  Status Prefund(Store& tx, std::string_view funded_id, std::string_view label, std::int64_t minor);
  // Posted balance and available (posted − outgoing holds) of a ledger account.
  struct Balances {
    std::int64_t posted = 0;
    std::int64_t available = 0;
  };
  Result<Balances> LedgerBalance(std::string_view label);
  // One journal line of a user or merchant account, with the ledger balance after it.
  Status Post(Store& tx, std::string_view op_id, std::string_view label, std::string_view kind,
              std::string_view counterparty, std::int64_t signed_minor, std::int64_t now_ms);

  // ---- platform.cc: limits ----
  Result<internal::Spent> SpentBy(Store& s, std::string_view account_id, std::int64_t now_ms);
  // The payer's limits and balance for an outgoing payment of `minor` (home currency).
  Status CheckOutgoing(Store& s, const AccountRow& a, std::int64_t minor, std::int64_t now_ms);
  // kFailedPrecondition "<field>: N available, M requested".
  Status CheckFunds(std::string_view label, std::string_view field, std::int64_t minor);
  // kOutOfRange when crediting `credit_minor` would take the balance above the level's cap.
  Status CheckBalanceCap(const AccountRow& a, std::int64_t credit_minor);
  Status RecordSpending(Store& tx, std::string_view op_id, std::string_view account_id,
                        std::int64_t minor, std::int64_t now_ms);
  Status RecordPayment(Store& tx, const Receipt& r, std::string_view refund_of, std::int64_t sign);
  // A receipt of `kind` for the account with no fee (in the payer's currency).
  static Receipt NewReceipt(std::string_view op_id, std::string_view kind,
                            std::string_view account_id, const Amount& amount,
                            const Amount& payer_amount, std::int64_t now_ms);

  // ---- platform.cc: the operation runner ----
  struct OpState {
    Result<Receipt> result = Internal("qrpay: operation not run");
    bool in_flight = false;  // the first phase exists: drive the external step
  };
  using OpBody = std::function<Result<Receipt>(Store&, const std::string& op_id, bool& in_flight)>;
  static OpState FromOpRow(const OpRow& op);
  // OK when `error`, returned by a body inside `tx`, is a refusal to remember (and commit with the
  // op row); otherwise the error to fail the transaction with: a machinery error as it is, and a
  // store error (whatever its code: the store aborted `tx`) as kInternal.
  Status CheckRefusal(Store& tx, const Status& error);
  // The outcome an op (kind, actor, key) already has (or the error reading it); nullopt when it
  // never ran.
  std::optional<Result<Receipt>> FinishedOp(Store& s, std::string_view kind, std::string_view actor,
                                            std::string_view key);
  // Runs `body` once per (kind, actor, key): in one group-committed transaction, writes the op
  // row with the body's outcome (done, refused, or in flight when the body set in_flight).
  // Errors of the machinery (store, bad key) come back as state.result.
  OpState RunOp(std::string_view kind, std::string_view actor, std::string_view key,
                const std::string& digest, const OpBody& body);
  // The second phase of a two-phase op: `finish` runs only while the op is still in flight and
  // returns the final receipt (or a refusal), written over the op row.
  using FinishBody = std::function<Result<Receipt>(Store&)>;
  Result<Receipt> FinishOp(const std::string& op_id, const FinishBody& finish);

  // ---- platform_merchant_qr.cc: paying an own merchant from the balance (QR, code, quote) ----
  struct OwnPayment {
    std::string kind;
    const MerchantProfile* merchant = nullptr;
    Amount merchant_amount{Cny()};
    Amount payer_amount{Cny()};
    std::string rate;
    std::int64_t markup_bps = 0;
    std::string order_id;  // dynamic codes: single use
  };
  Result<Receipt> PayOwnLocked(Store& tx, const std::string& op_id, const AccountRow& a,
                               const OwnPayment& p);
  // ReadMerchantQr + the checks only the acquiring platform can make.
  Result<ScannedMerchantQr> VerifyOwnCode(std::string_view payload);
  // The amount a code asks for: the dynamic order's, or the payer's for a static code.
  static Result<Amount> CodeAmount(const ScannedMerchantQr& code,
                                   const std::optional<Amount>& amount);

  // ---- platform_cards.cc ----
  // The platform as the merchant of its own card orders (MCC 6540, ISO 18245: stored-value load).
  CardMerchant WalletCardMerchant() const;
  // What a failed CardRail::Charge of an order in "charging" means. kUnavailable, or any answer
  // but a decline to a `retry` (the order was charging before this call: an earlier call may have
  // charged it, and a rail that restarted no longer knows the order): the outcome is unknown, the
  // order stays "charging" with its claims, kUnavailable. Otherwise the charge definitely failed:
  // `release` (run in a transaction) drops the order's claims and the rail's error is returned.
  Status ChargeFailed(std::string_view what, std::string_view order_id, bool retry,
                      const Status& error, const store::GroupCommitter::Body& release);
  Result<Receipt> DriveWithdrawal(const std::string& op_id, const Receipt& pending,
                                  const CardCredit& credit);

  // ---- platform_cross_border.cc ----
  Result<Receipt> DrivePartner(const std::string& op_id, const Receipt& pending,
                               const nlohmann::json& request);
};

}  // namespace tapstack::qrpay
