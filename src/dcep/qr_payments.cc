#include "dcep/qr_payments.h"

#include <utility>

#include "core/bytes.h"
#include "crypto/hkdf.h"
#include "dcep/ledger_ids.h"

namespace tapstack::dcep {
namespace {

// HKDF info: a purpose string, so the QR key and the ledger-id derivation (same ikm) never meet.
constexpr std::string_view kQrKeyPurpose = "tapstack dcep merchant qr key v1";
constexpr std::int64_t kMillisPerSecond = 1'000;

// The merchant of `merchant_id` if the config gives it to `operator_id`.
Result<const MerchantInfo*> MerchantOf(const DcepConfig& config, std::string_view operator_id,
                                       std::string_view merchant_id) {
  Result<const MerchantInfo*> merchant = config.Merchant(merchant_id);
  if (!merchant.ok() || (*merchant)->operator_id != operator_id) {
    return NotFound("merchant_id: " + std::string(merchant_id) + " is not a merchant of " +
                    std::string(operator_id));
  }
  return *merchant;
}

}  // namespace

Result<crypto::SecretBytes> DeriveMerchantQrKey(const crypto::SecretBytes& operator_id_key,
                                                std::string_view operator_id) {
  std::string info(kQrKeyPurpose);
  info.push_back('\0');
  info.append(operator_id);
  return crypto::HkdfSha256(operator_id_key, {}, AsBytes(info), kMerchantQrKeyBytes);
}

Result<MerchantQrKeys> MerchantQrKeys::Demo(const DcepConfig& config) {
  MerchantQrKeys keys;
  for (const OperatorInfo& op : config.operators) {
    TS_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                        DeriveMerchantQrKey(DemoDcepIdKey("operator_" + op.id), op.id));
    TS_RETURN_IF_ERROR(keys.Set(op.id, std::move(key)));
  }
  return keys;
}

Status MerchantQrKeys::Set(std::string_view operator_id, crypto::SecretBytes key) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator", operator_id));
  if (key.size() < kMerchantQrKeyBytesMin) {
    return InvalidArgument("key: expected at least " + std::to_string(kMerchantQrKeyBytesMin) +
                           " bytes");
  }
  keys_.insert_or_assign(std::string(operator_id), std::move(key));
  return Status::Ok();
}

Result<const crypto::SecretBytes*> MerchantQrKeys::Key(std::string_view operator_id) const {
  const auto it = keys_.find(operator_id);
  if (it == keys_.end()) {
    return NotFound("operator: no merchant QR key for " + std::string(operator_id));
  }
  return &it->second;
}

QrPayments::QrPayments(const DcepConfig* config, MerchantQrKeys keys, const Clock* clock)
    : config_(config),
      keys_(std::move(keys)),
      clock_(clock != nullptr ? clock : &SystemClock::Instance()) {}

std::int64_t QrPayments::NowUnixSeconds() const {
  return clock_->NowUnixMillis() / kMillisPerSecond;
}

Result<IssuedMerchantQr> QrPayments::Issue(std::string_view operator_id,
                                           const MerchantQrRequest& request) const {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator", operator_id));
  TS_ASSIGN_OR_RETURN(const MerchantInfo* merchant,
                      MerchantOf(*config_, operator_id, request.merchant_id));
  TS_ASSIGN_OR_RETURN(const crypto::SecretBytes* key, keys_.Key(operator_id));
  if (request.amount_fen < 0) return InvalidArgument("amount_fen: expected an integer > 0");
  MerchantQr code;
  code.dynamic = request.amount_fen > 0;
  code.operator_id = std::string(operator_id);
  code.merchant_id = merchant->id;
  code.mcc = merchant->mcc;
  code.name = FitMerchantQrText(merchant->name, kQrMerchantNameCharsMax);
  code.city = request.city.empty() ? std::string(kMerchantQrCityDefault) : request.city;
  if (code.dynamic) {
    if (request.order_id.empty()) {
      return InvalidArgument("order_id: required for a code with an amount (a dynamic code)");
    }
    const std::int64_t validity = request.expires_in_s == 0 ? kDynamicQrValiditySecondsDefault
                                                            : request.expires_in_s;
    if (validity < 1 || validity > kDynamicQrValiditySecondsMax) {
      return InvalidArgument("expires_in_s: expected 1-" +
                             std::to_string(kDynamicQrValiditySecondsMax) + " seconds");
    }
    code.amount_fen = request.amount_fen;
    code.order_id = request.order_id;
    code.expires_unix_s = NowUnixSeconds() + validity;
  } else {
    if (!request.order_id.empty()) {
      return InvalidArgument("order_id: only a code with an amount (a dynamic code) has an order");
    }
    if (request.expires_in_s != 0) {
      return InvalidArgument("expires_in_s: only a code with an amount (a dynamic code) expires");
    }
  }
  IssuedMerchantQr issued;
  TS_ASSIGN_OR_RETURN(issued.payload, EncodeMerchantQr(code, *key));
  // What the payer's app will read, MAC included (and the encoder's output checked once more).
  TS_ASSIGN_OR_RETURN(issued.code, ParseMerchantQr(issued.payload));
  return issued;
}

Result<MerchantQr> QrPayments::Check(std::string_view payload) const {
  Result<MerchantQr> code = ParseMerchantQr(payload);
  if (!code.ok()) return code.status().WithContext("payload");
  Result<const crypto::SecretBytes*> key = keys_.Key(code->operator_id);
  if (!key.ok()) {
    return NotFound("payload: a code of operator " + code->operator_id +
                    ", which this network does not know");
  }
  if (Status s = VerifyMerchantQr(*code, **key, NowUnixSeconds()); !s.ok()) {
    return s.WithContext("payload");
  }
  // Genuine but the merchant moved or left: its operator's config no longer pays it there.
  if (!MerchantOf(*config_, code->operator_id, code->merchant_id).ok()) {
    return FailedPrecondition("payload: merchant " + code->merchant_id +
                              " is no longer a merchant of " + code->operator_id);
  }
  return code;
}

namespace {

// The payment a scanned code asks for (see the top of the header).
Result<PaymentOrder> PaymentFor(const MerchantQr& code, const QrPaymentOrder& order) {
  PaymentOrder payment;
  payment.payer_wallet = order.payer_wallet;
  payment.merchant_id = code.merchant_id;
  if (code.dynamic) {
    if (order.amount_fen != 0 && order.amount_fen != code.amount_fen) {
      return InvalidArgument("amount_fen: the order is for " + std::to_string(code.amount_fen) +
                             " fen, not " + std::to_string(order.amount_fen));
    }
    payment.amount_fen = code.amount_fen;
    payment.merchant_order_id = code.order_id;
  } else {
    if (order.amount_fen <= 0) {
      return InvalidArgument("amount_fen: required (> 0) for a static code: the payer enters it");
    }
    payment.amount_fen = order.amount_fen;
  }
  payment.idempotency_key = order.idempotency_key;
  return payment;
}

}  // namespace

std::optional<QrPaymentResult> QrPayments::PaidBeforeExpiry(Operator& payer_operator,
                                                           const QrPaymentOrder& order) const {
  Result<MerchantQr> code = ParseMerchantQr(order.payload);
  if (!code.ok() || !code->dynamic) return std::nullopt;
  Result<const crypto::SecretBytes*> key = keys_.Key(code->operator_id);
  // Only a genuine code (its MAC checked, its expiry not) can be replayed.
  if (!key.ok() || !VerifyMerchantQr(*code, **key, /*now_unix_s=*/0).ok()) return std::nullopt;
  Result<PaymentOrder> payment = PaymentFor(*code, order);
  if (!payment.ok()) return std::nullopt;
  Result<std::optional<Entry>> paid = payer_operator.FindPayment(*payment);
  if (!paid.ok() || !paid->has_value()) return std::nullopt;
  return QrPaymentResult{std::move(**paid), std::move(*code)};
}

Result<QrPaymentResult> QrPayments::Pay(Operator& payer_operator,
                                        const QrPaymentOrder& order) const {
  Result<MerchantQr> code = Check(order.payload);
  if (!code.ok()) {
    if (std::optional<QrPaymentResult> paid = PaidBeforeExpiry(payer_operator, order)) return *paid;
    return code.status();
  }
  TS_ASSIGN_OR_RETURN(const PaymentOrder payment, PaymentFor(*code, order));
  TS_ASSIGN_OR_RETURN(Entry entry, payer_operator.Pay(payment));
  return QrPaymentResult{std::move(entry), std::move(*code)};
}

}  // namespace tapstack::dcep
