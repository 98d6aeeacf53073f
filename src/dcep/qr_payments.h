// Paying e-CNY merchants by QR code: the operator issues its merchants' codes
// (dcep/merchant_qr.h) and a payer's operator pays a scanned one from a wallet.
//
// Keys: each operator MACs its merchants' codes under its own QR key, derived from the operator's
// id key (OperatorOptions::id_key, dcep/ledger_ids.h) with HKDF-SHA-256 (RFC 5869) and a purpose
// string, so it is a separate key from the ledger-id derivation. Here one MerchantQrKeys holds
// the keys of every operator of the network (DcepNetwork runs them all in one process). Between
// separate operators, the payer's operator would ask the issuing operator to verify the code
// over the interbank link instead of holding its key.
//
// Paying a code = Operator::Pay to the merchant (same operator or another; Pay handles both):
//   * the code must parse, be MAC-verified under the key of the operator it names, not be expired
//     (dynamic) and name a merchant that seed/dcep.json gives to that operator;
//   * dynamic codes: the amount is the code's and the payment names the code's order
//     (PaymentOrder::merchant_order_id): the merchant's operator pays each order once (its
//     paid-order register, dcep/operator.h "Merchant orders"). The same wallet scanning the same
//     order again (a second scan, a retry under any key) gets its first payment back (replayed);
//     another wallet, here or at another operator, is refused (kAlreadyExists, naming
//     merchant_order_id); a payer refused for balance may top up and pay it later;
//   * static codes: the payer gives amount_fen.
// Either way the caller's idempotency key is the payment's (a retry with it answers the first
// outcome, refusals included).
// A retry after a dynamic code expired (same wallet, same idempotency key, same code) answers the
// payment made before the expiry (replayed); anything else with an expired code is refused as
// expired, including a retry whose first try was refused (nothing was paid).
//
// Thread-safety: immutable after construction, so every method may run concurrently (Operator is
// thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "dcep/merchant_qr.h"
#include "dcep/operator.h"
#include "dcep/tiers.h"

namespace tapstack::dcep {

inline constexpr std::int64_t kDynamicQrValiditySecondsDefault = 300;
inline constexpr std::int64_t kDynamicQrValiditySecondsMax = 3'600;
// seed/dcep.json has no merchant city; MPM 60 is mandatory, so codes say this unless the
// merchant gives its city.
inline constexpr std::string_view kMerchantQrCityDefault = "China";
inline constexpr std::size_t kMerchantQrKeyBytes = 32;

// HKDF-SHA-256(ikm = operator_id_key, salt = empty, info = "tapstack dcep merchant qr key v1" ‖
// 0x00 ‖ operator_id, kMerchantQrKeyBytes). Errors: kInvalidArgument (empty key), kCryptoFailure.
Result<crypto::SecretBytes> DeriveMerchantQrKey(const crypto::SecretBytes& operator_id_key,
                                                std::string_view operator_id);

// The QR keys of operators, by operator id. Move-only (it owns key material).
class MerchantQrKeys {
 public:
  // Every operator of `config` with DeriveMerchantQrKey(DemoDcepIdKey("operator_<id>")): the keys
  // of the operators DcepNetwork opens (they run on the demo id keys). Errors: kCryptoFailure.
  static Result<MerchantQrKeys> Demo(const DcepConfig& config);

  // Adds or replaces operator `operator_id`'s key. Errors (kInvalidArgument): the operator id,
  // a key shorter than kMerchantQrKeyBytesMin.
  Status Set(std::string_view operator_id, crypto::SecretBytes key);
  // The key, valid as long as this object. Errors: kNotFound "operator: no merchant QR key …".
  Result<const crypto::SecretBytes*> Key(std::string_view operator_id) const;

 private:
  std::map<std::string, crypto::SecretBytes, std::less<>> keys_;
};

// What a merchant asks its operator for.
struct MerchantQrRequest {
  std::string merchant_id;
  std::int64_t amount_fen = 0;    // > 0: a dynamic code for one order; 0: a static code
  std::string order_id;           // dynamic codes: required (1-25 of A-Z a-z 0-9 -)
  std::int64_t expires_in_s = 0;  // dynamic: 1..kDynamicQrValiditySecondsMax; 0 = the default
  std::string city;               // 1-15 characters; empty = kMerchantQrCityDefault
};

struct IssuedMerchantQr {
  std::string payload;  // the text to put in the QR symbol
  MerchantQr code;      // what it says, MAC included
};

// A wallet paying a scanned code.
struct QrPaymentOrder {
  std::string payer_wallet;
  std::string payload;
  std::int64_t amount_fen = 0;  // static codes: required, > 0; dynamic: 0 or the code's amount
  std::string idempotency_key;  // the payment's key (1-128 bytes)
};

struct QrPaymentResult {
  Entry entry;      // as Operator::Pay answered (replayed = a repeat of the first outcome)
  MerchantQr code;  // the verified code that was paid
};

class QrPayments {
 public:
  // `config` is not owned and must outlive this; `clock` nullptr = SystemClock.
  QrPayments(const DcepConfig* config, MerchantQrKeys keys, const Clock* clock = nullptr);

  // A code of `operator_id`'s merchant. The name is the merchant's name cut to 25 characters.
  // Errors: kNotFound "merchant_id: …" (not a merchant of that operator in the config), "operator:
  // …" (no key); kInvalidArgument naming the field (order_id, expires_in_s, amount_fen, city,
  // order fields on a static code, a merchant id too long for a code).
  Result<IssuedMerchantQr> Issue(std::string_view operator_id,
                                 const MerchantQrRequest& request) const;

  // Reads and checks a scanned code as a payer's operator does before paying it.
  // Errors, all starting "payload: ": kInvalidArgument (ParseMerchantQr's error),
  // kNotFound (an operator without a key), kCryptoFailure "payload: mac: the code was altered …"
  // (tampered: an edited amount, merchant, order, expiry or text), kFailedPrecondition
  // "payload: expires_unix_s: the code expired …" or "payload: merchant … is no longer …".
  Result<MerchantQr> Check(std::string_view payload) const;

  // Checks the code, then pays it from `order.payer_wallet` at `payer_operator` (see the top).
  // Errors: as Check; kInvalidArgument "amount_fen: …" (missing on a static code, different from
  // a dynamic code's amount); kAlreadyExists "merchant_order_id: … is already paid" (by another
  // wallet, or for another amount); otherwise as Operator::Pay
  // (kOutOfRange limits, kFailedPrecondition balance, kUnavailable interbank in flight, …).
  Result<QrPaymentResult> Pay(Operator& payer_operator, const QrPaymentOrder& order) const;

 private:
  std::int64_t NowUnixSeconds() const;
  // The payment `order` made before its code expired (see the top); nullopt when there is none.
  std::optional<QrPaymentResult> PaidBeforeExpiry(Operator& payer_operator,
                                                  const QrPaymentOrder& order) const;

  const DcepConfig* config_;
  MerchantQrKeys keys_;
  const Clock* clock_;
};

}  // namespace tapstack::dcep
