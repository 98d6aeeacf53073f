// Platform, area 2: merchant QR codes — issuing, scanning, paying an own merchant from the balance,
// refunds; and the payment step shared with payment codes and quotes.

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Row;
using store::Rows;
using store::Store;

// ---- Impl: paying an own merchant ----

Result<Receipt> Platform::Impl::PayOwnLocked(Store& tx, const std::string& op_id,
                                             const AccountRow& a, const OwnPayment& p) {
  const std::int64_t now = NowMs();
  if (!p.order_id.empty()) {
    TS_ASSIGN_OR_RETURN(const std::optional<std::string> first,
                        OrderPaidBy(tx, p.merchant->merchant_id, p.order_id));
    if (first.has_value()) {
      return FailedPrecondition("order_id: order " + p.order_id + " of " + p.merchant->merchant_id +
                                " was already paid (receipt " + *first + ")");
    }
  }
  TS_RETURN_IF_ERROR(CheckOutgoing(tx, a, p.payer_amount.minor_units(), now));
  const std::string merchant_label = "merchant:" + p.merchant->merchant_id;
  std::vector<ledger::Transfer> transfers;
  if (p.merchant_amount.currency() == p.payer_amount.currency()) {
    TS_ASSIGN_OR_RETURN(ledger::Transfer t, MakeTransfer(op_id, "pay", a.label, merchant_label,
                                                         p.payer_amount, kTransferPayment));
    transfers.push_back(t);
  } else {
    // Two legs through the FX positions, linked: both or neither.
    TS_ASSIGN_OR_RETURN(
        ledger::Transfer payer_leg,
        MakeTransfer(op_id, "pay-payer", a.label,
                     "fx-position:" + std::string(p.payer_amount.currency().alpha), p.payer_amount,
                     kTransferPayment, ledger::transfer_flags::kLinked));
    TS_ASSIGN_OR_RETURN(
        ledger::Transfer merchant_leg,
        MakeTransfer(op_id, "pay-merchant",
                     "fx-position:" + std::string(p.merchant_amount.currency().alpha),
                     merchant_label, p.merchant_amount, kTransferPayment));
    transfers.push_back(payer_leg);
    transfers.push_back(merchant_leg);
  }
  TS_RETURN_IF_ERROR(ApplyTransfers(tx, transfers));
  TS_RETURN_IF_ERROR(
      Post(tx, op_id, a.label, p.kind, p.merchant->name, -p.payer_amount.minor_units(), now));
  TS_RETURN_IF_ERROR(
      Post(tx, op_id, merchant_label, p.kind, a.alias, p.merchant_amount.minor_units(), now));
  TS_RETURN_IF_ERROR(RecordSpending(tx, op_id, a.account_id, p.payer_amount.minor_units(), now));
  if (!p.order_id.empty()) {
    TS_RETURN_IF_ERROR(InsertOrderPaid(tx, p.merchant->merchant_id, p.order_id, op_id));
  }
  Receipt r = NewReceipt(op_id, p.kind, a.account_id, p.merchant_amount, p.payer_amount, now);
  r.merchant_id = p.merchant->merchant_id;
  r.merchant_name = p.merchant->name;
  r.payee_platform = id;
  r.rate = p.rate;
  r.markup_bps = p.markup_bps;
  r.reference = p.order_id;
  TS_RETURN_IF_ERROR(RecordPayment(tx, r, "", 1));
  return r;
}

Result<ScannedMerchantQr> Platform::Impl::VerifyOwnCode(std::string_view payload) {
  TS_ASSIGN_OR_RETURN(ScannedMerchantQr code, ReadMerchantQr(payload));
  if (code.merchant.platform_id != id) {
    return FailedPrecondition("payload: a code of platform " + code.merchant.platform_id +
                              ", not " + id);
  }
  TS_ASSIGN_OR_RETURN(const MerchantProfile* merchant, OwnMerchant(code.merchant.merchant_id));
  TS_RETURN_IF_ERROR(VerifyMerchantQr(code, qr_key, NowMs() / kMillisPerSecond));
  if (code.merchant.name != merchant->name || code.merchant.currency == nullptr ||
      *code.merchant.currency != *merchant->currency) {
    return FailedPrecondition("payload: the code does not match merchant " + merchant->merchant_id +
                              "'s registration");
  }
  return code;
}

Result<Amount> Platform::Impl::CodeAmount(const ScannedMerchantQr& code,
                                          const std::optional<Amount>& amount) {
  const Currency& currency = *code.merchant.currency;
  if (code.dynamic) {
    if (!code.amount.has_value()) return InvalidArgument("payload: a dynamic code without 54");
    if (amount.has_value() && !(*amount == *code.amount)) {
      return InvalidArgument("amount: the order is for " + code.amount->ToString() + ", not " +
                             amount->ToString());
    }
    return *code.amount;
  }
  if (!amount.has_value()) {
    return InvalidArgument("amount: required for a static code (in " + std::string(currency.alpha) +
                           ")");
  }
  if (amount->currency() != currency) {
    return InvalidArgument("amount: the merchant is paid in " + std::string(currency.alpha) +
                           ", not " + std::string(amount->currency().alpha));
  }
  if (amount->minor_units() <= 0) return InvalidArgument("amount: expected > 0");
  return *amount;
}

// ---- Public calls ----

Result<std::string> Platform::MerchantStaticQr(std::string_view merchant_id) {
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, impl_->OwnMerchant(merchant_id));
  return MakeStaticMerchantQr(*m, impl_->qr_key);
}

Result<std::string> Platform::MerchantDynamicQr(std::string_view merchant_id,
                                                std::string_view order_id, const Amount& amount,
                                                std::int64_t validity_seconds) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  if (validity_seconds < 1 || validity_seconds > kDynamicQrValiditySecondsMax) {
    return InvalidArgument("validity_seconds: expected 1-" +
                           std::to_string(kDynamicQrValiditySecondsMax));
  }
  DynamicOrder order;
  order.order_id = std::string(order_id);
  order.amount = amount;
  order.expires_unix_s = p.NowMs() / kMillisPerSecond + validity_seconds;
  return MakeDynamicMerchantQr(*m, order, p.qr_key);
}

Result<ScanResult> Platform::Scan(std::string_view payload) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
  ScanResult out;
  out.dynamic = code.dynamic;
  out.platform_id = code.merchant.platform_id;
  out.merchant_id = code.merchant.merchant_id;
  out.merchant_name = code.merchant.name;
  out.city = code.merchant.city;
  out.country = code.merchant.country;
  out.amount = code.amount;
  out.currency = code.merchant.currency;
  out.order_id = code.order_id;
  out.foreign = code.merchant.platform_id != p.id || *code.merchant.currency != p.home();
  if (out.foreign && code.amount.has_value() && p.rates != nullptr) {
    auto preview = p.rates->Convert(*code.amount, p.home(), p.config->markup_bps);
    if (preview.ok()) out.quote_preview = *preview;
  }
  return out;
}

Result<Receipt> Platform::PayMerchantQr(std::string_view account_id, std::string_view payload,
                                        std::optional<Amount> amount,
                                        std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(Bytes digest,
                      Digest({"qr_payment", account_id, payload,
                              amount.has_value() ? amount->ToString() : std::string("-")}));
  Impl::OpState state = p.RunOp(
      "qr_payment", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr scanned, ReadMerchantQr(payload));
        if (scanned.merchant.platform_id != p.id || *scanned.merchant.currency != p.home()) {
          return FailedPrecondition("payload: " + scanned.merchant.name + " is paid in " +
                                    std::string(scanned.merchant.currency->alpha) + " through " +
                                    scanned.merchant.platform_id +
                                    ": ask QuoteMerchantQr and pay with PayQuote");
        }
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
        TS_ASSIGN_OR_RETURN(const Amount to_pay, Impl::CodeAmount(code, amount));
        TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
        Impl::OwnPayment pay;
        pay.kind = "qr_payment";
        pay.merchant = m;
        pay.merchant_amount = to_pay;
        pay.payer_amount = to_pay;
        pay.order_id = code.dynamic ? code.order_id : std::string();
        return p.PayOwnLocked(tx, op_id, a, pay);
      });
  return std::move(state.result);
}

Result<Receipt> Platform::RefundPayment(std::string_view merchant_id, std::string_view payment_id,
                                        const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"refund", merchant_id, payment_id, amount.ToString()}));
  Impl::OpState state = p.RunOp(
      "refund", merchant_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(
            Rows rows, tx.Query("SELECT kind, account_id, amount_minor, payer_amount_minor,"
                                " payer_currency, rate, markup_bps, refunded_minor,"
                                " payer_refunded_minor FROM qrpay_payments WHERE payment_id = ?"
                                " AND merchant_id = ?",
                                {std::string(payment_id), m->merchant_id}));
        if (rows.empty()) {
          return NotFound("payment_id: \"" + std::string(payment_id) + "\" is not a payment of " +
                          m->merchant_id);
        }
        const Row& row = rows[0];
        TS_ASSIGN_OR_RETURN(const std::string kind, row.GetText(0));
        if (kind != "qr_payment" && kind != "code_payment" && kind != "cross_border_payment") {
          return FailedPrecondition("payment_id: a " + kind +
                                    " is not refundable through the platform");
        }
        TS_ASSIGN_OR_RETURN(const std::string account_id, row.GetText(1));
        TS_ASSIGN_OR_RETURN(const std::int64_t paid, row.GetInt64(2));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_paid, row.GetInt64(3));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_numeric, row.GetInt64(4));
        TS_ASSIGN_OR_RETURN(const std::string rate, row.GetText(5));
        TS_ASSIGN_OR_RETURN(const std::int64_t markup, row.GetInt64(6));
        TS_ASSIGN_OR_RETURN(const std::int64_t refunded, row.GetInt64(7));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_refunded, row.GetInt64(8));
        TS_ASSIGN_OR_RETURN(const Currency* payer_currency, CurrencyFromNumeric(payer_numeric));
        if (amount.currency() != *m->currency) {
          return InvalidArgument("amount: the payment was in " + std::string(m->currency->alpha) +
                                 ", not " + std::string(amount.currency().alpha));
        }
        if (amount.minor_units() <= 0) return InvalidArgument("amount: expected > 0");
        if (amount.minor_units() > paid - refunded) {
          return OutOfRange("amount: " + std::to_string(paid - refunded) + " left to refund of " +
                            std::to_string(paid) + " paid; " +
                            std::to_string(amount.minor_units()) + " requested");
        }
        // The payer gets back the same share of what it paid; cumulative rounding down
        // makes the refunds of the whole amount return exactly what was paid.
        const std::int64_t total_after = refunded + amount.minor_units();
        const auto payer_after =
            static_cast<std::int64_t>(static_cast<Int128>(payer_paid) * total_after / paid);
        const Amount payer_back(payer_after - payer_refunded, *payer_currency);
        const std::string merchant_label = "merchant:" + m->merchant_id;
        TS_RETURN_IF_ERROR(p.CheckFunds(merchant_label, "merchant balance", amount.minor_units()));
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        std::vector<ledger::Transfer> transfers;
        if (*payer_currency == *m->currency) {
          TS_ASSIGN_OR_RETURN(ledger::Transfer t, p.MakeTransfer(op_id, "refund", merchant_label,
                                                                 a.label, amount, kTransferRefund));
          transfers.push_back(t);
        } else {
          TS_ASSIGN_OR_RETURN(
              ledger::Transfer merchant_leg,
              p.MakeTransfer(op_id, "refund-merchant", merchant_label,
                             "fx-position:" + std::string(m->currency->alpha), amount,
                             kTransferRefund, ledger::transfer_flags::kLinked));
          transfers.push_back(merchant_leg);
          if (payer_back.minor_units() > 0) {
            TS_ASSIGN_OR_RETURN(ledger::Transfer payer_leg,
                                p.MakeTransfer(op_id, "refund-payer",
                                               "fx-position:" + std::string(payer_currency->alpha),
                                               a.label, payer_back, kTransferRefund));
            transfers.push_back(payer_leg);
          } else {
            transfers.back().flags = 0;
          }
        }
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, transfers));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, merchant_label, "refund", a.alias, -amount.minor_units(), now));
        if (payer_back.minor_units() > 0) {
          TS_RETURN_IF_ERROR(
              p.Post(tx, op_id, a.label, "refund", m->name, payer_back.minor_units(), now));
        }
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_payments SET refunded_minor = ?,"
                                      " payer_refunded_minor = ? WHERE payment_id = ?",
                                      {total_after, payer_after, std::string(payment_id)})
                               .status());
        Receipt r = Impl::NewReceipt(op_id, "refund", a.account_id, amount, payer_back, now);
        r.merchant_id = m->merchant_id;
        r.merchant_name = m->name;
        r.payee_platform = p.id;
        r.payment_id = std::string(payment_id);
        r.rate = rate;
        r.markup_bps = markup;
        TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, payment_id, -1));
        return r;
      });
  return std::move(state.result);
}
}  // namespace tapstack::qrpay
