// QrClearing: the network's clearing of QR payments between wallet platforms (the tapstack wallet
// in China and a partner wallet abroad, each with its own ledger): a payer's platform pays a
// merchant that another platform acquires, the network carries the payment to that platform and
// keeps each platform's net position per currency, which settles at cut-off (in the style of
// Alipay+ clearing: domain note qr-and-cross-border.md §5.2).
//
// Messages are JSON (the shapes are in qrpay/clearing_link.h, the platform side):
//   Handle({"type": "qr_payment", "clearing_id", "payer_platform", "payee_platform", "payload",
//           "amount": {"minor", "currency"}, "payer_amount": {…}, "rate", "markup_bps",
//           "payer_alias"})
//     → checks the message (every member named when missing or malformed; both platforms
//       registered and different), records it, forwards it UNCHANGED to the payee platform and
//       records the answer; on "approved" the payee platform's position in `amount`'s currency
//       rises by it and the payer platform's falls by it (positions per currency sum to zero).
//     ← {"status": "approved", "clearing_id", "payee_payment_id"} or {"status": "declined",
//        "clearing_id", "reason"}; the payee's answer as it gave it.
// Idempotency: a clearing_id with a recorded answer gets that answer again without a second
// forward; the same clearing_id with a different message is refused (kAlreadyExists). When the
// payee platform cannot be reached (its handler answers kUnavailable) nothing is recorded as
// answered and the call answers kUnavailable: the payer retries with the same clearing_id and the
// payee platform, idempotent by clearing_id itself, answers as before.
// Durability: the answer and the position change commit in one store transaction before Handle
// returns (durable before answered).
//
// Cut-off: CutOff(business_date) closes the open positions into a settlement: per platform and
// currency the net amount (positive: the network pays the platform; negative: the platform pays
// the network) and the number of payments; the totals per currency are zero.
//
// Thread-safety: all calls are serialised by one mutex (the store is one connection); the payee's
// handler is called without it held.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace tapstack::network {

inline constexpr std::size_t kClearingIdBytesMax = 96;
inline constexpr std::size_t kClearingPayloadBytesMax = 1024;

struct ClearingPosition {
  std::string platform_id;
  std::string currency;       // ISO 4217 alpha
  std::int64_t net_minor = 0;  // > 0: the network owes the platform
  std::int64_t payments = 0;  // approved payments in which the platform took part
};

struct ClearingSettlement {
  std::int64_t settlement_id = 0;
  std::string business_date;  // YYYY-MM-DD
  std::vector<ClearingPosition> positions;
};

class QrClearing {
 public:
  // The payee platform's side of a forward: its answer JSON, or kUnavailable.
  using PlatformHandler = std::function<Result<nlohmann::json>(const nlohmann::json&)>;

  // Applies the clearing schema to `store` (which must outlive this). Errors: the store's.
  static Result<std::unique_ptr<QrClearing>> Open(store::Store& store, const Clock* clock = nullptr);

  // Registers (or replaces) a platform. Errors: kInvalidArgument (id not 1-16 of a-z 0-9 -, no
  // handler).
  Status RegisterPlatform(const std::string& platform_id, PlatformHandler handler);

  // See the top of this file. Errors: kInvalidArgument (naming the member); kNotFound (a platform
  // that is not registered); kAlreadyExists (clearing_id reused for another message);
  // kUnavailable (the payee did not answer); the store's.
  Result<nlohmann::json> Handle(const nlohmann::json& request);

  // Open positions (approved since the last cut-off), by platform then currency.
  Result<std::vector<ClearingPosition>> Positions();

  // Closes the open positions into a settlement (empty when nothing is open). Errors: a date not
  // YYYY-MM-DD; the store's.
  Result<ClearingSettlement> CutOff(const std::string& business_date);

 private:
  QrClearing(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  store::Store& store_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, PlatformHandler> platforms_;
};

}  // namespace tapstack::network
