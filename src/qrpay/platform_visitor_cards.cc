// Platform, area 8: QR payments funded by a bound card, with the visitor-card limits and fee.

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using nlohmann::json;
using store::Row;
using store::Rows;
using store::Store;

namespace {

struct CardOrderRow {
  std::string account_id;
  std::string payload;
  std::string merchant_id;
  std::string code_order_id;
  std::int64_t amount_minor = 0;
  std::int64_t fee_minor = 0;
  std::int64_t usd_minor = 0;
  bool visitor = false;
  std::string device_id;
};

// The visitor's USD used this local year, from the journal: completed card payments and those
// being charged (claimed before the charge).
Result<std::int64_t> VisitorUsdThisYear(Store& s, std::string_view account_id, std::int64_t today) {
  const std::int64_t year_start = today / 10000 * 10000;
  TS_ASSIGN_OR_RETURN(Row row,
                      s.QueryRow("SELECT COALESCE(SUM(usd_minor), 0) AS total FROM"
                                 " qrpay_card_usage WHERE account_id = ? AND"
                                 " local_day > ? AND local_day < ?",
                                 {std::string(account_id), year_start, year_start + 10000}));
  return row.GetInt64("total");
}

Status CheckVisitorYear(const VisitorCardRules& rules, std::int64_t used, std::int64_t usd_minor) {
  if (rules.yearly_max_usd_minor > 0 && used + usd_minor > rules.yearly_max_usd_minor) {
    return OutOfRange("yearly_max_usd_minor: a visitor's card may pay " +
                      Amount(rules.yearly_max_usd_minor, Usd()).ToString() + " a year; " +
                      Amount(used, Usd()).ToString() + " used this year, " +
                      Amount(usd_minor, Usd()).ToString() + " requested");
  }
  return Status::Ok();
}

CardMerchant CardMerchantOf(const MerchantProfile& m) {
  return CardMerchant{m.merchant_id, m.name, m.city, m.country, m.mcc};
}

}  // namespace

Result<CardPaymentRequest> Platform::StartCardPayment(std::string_view account_id,
                                                      std::string_view payload,
                                                      std::optional<Amount> amount,
                                                      std::string_view card_issuer_country,
                                                      std::string_view device_id) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(p.NeedRail());
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  if (!CountryByAlpha2(card_issuer_country).ok()) {
    return InvalidArgument("card_issuer_country: expected an ISO 3166-1 alpha-2 code");
  }
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr scanned, ReadMerchantQr(payload));
  if (scanned.merchant.platform_id != p.id || *scanned.merchant.currency != p.home()) {
    return FailedPrecondition("payload: card payments are for " + std::string(p.home().alpha) +
                              " merchants of " + p.id);
  }
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
  TS_ASSIGN_OR_RETURN(const Amount to_pay, Impl::CodeAmount(code, amount));
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
  const VisitorCardRules& rules = p.config->visitor_cards;
  const bool visitor = card_issuer_country != rules.home_country;
  std::int64_t fee = 0;
  std::int64_t usd = 0;
  if (visitor) {
    if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
    TS_ASSIGN_OR_RETURN(const FxConversion in_usd, p.rates->Convert(to_pay, Usd(), 0));
    usd = in_usd.to.minor_units();
    if (rules.per_transaction_max_usd_minor > 0 && usd > rules.per_transaction_max_usd_minor) {
      return OutOfRange("per_transaction_max_usd_minor: a visitor's card may pay " +
                        Amount(rules.per_transaction_max_usd_minor, Usd()).ToString() +
                        " at once; " + Amount(usd, Usd()).ToString() + " requested (" +
                        to_pay.ToString() + " at the network's rate)");
    }
    if (to_pay.minor_units() > rules.fee_free_up_to_minor) {
      // The fee applies to the whole payment once it is above the threshold; half up.
      fee = static_cast<std::int64_t>(
          (static_cast<Int128>(to_pay.minor_units()) * rules.fee_bps + kBasisPointsMax / 2) /
          kBasisPointsMax);
    }
  }
  TS_ASSIGN_OR_RETURN(const std::string order_hex, p.RandomHex(12));
  const std::string order_id = "cp-" + order_hex;
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
    if (visitor) {
      TS_ASSIGN_OR_RETURN(const std::int64_t used,
                          VisitorUsdThisYear(tx, a.account_id, p.LocalDay(p.NowMs())));
      TS_RETURN_IF_ERROR(CheckVisitorYear(rules, used, usd));
    }
    return tx
        .Execute(
            "INSERT INTO qrpay_card_orders (order_id, account_id, payload, merchant_id,"
            " code_order_id, amount_minor, fee_minor, usd_minor, visitor, device_id,"
            " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {order_id, a.account_id, std::string(payload), m->merchant_id,
             code.dynamic ? code.order_id : std::string(), to_pay.minor_units(), fee, usd, visitor,
             std::string(device_id), p.NowMs()})
        .status();
  }));
  const CardOrder order{.order_id = order_id,
                        .merchant = CardMerchantOf(*m),
                        .amount = Amount(to_pay.minor_units() + fee, p.home()),
                        .device_id = std::string(device_id)};
  return p.rail->PaymentRequest(order);
}

Result<Receipt> Platform::CompleteCardPayment(std::string_view order_id,
                                              const nlohmann::json& payment_data) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(p.NeedRail());
  TS_RETURN_IF_ERROR(CheckText("order_id", order_id, kCardOrderIdBytesMax));
  CardOrderRow o;
  const MerchantProfile* m = nullptr;
  std::string claim_op_id;  // the op id the payment will have
  std::optional<Result<Receipt>> done;
  bool retry = false;  // the order was charging already: an earlier call may have charged it
  // Claims, in a transaction of its own before the card is charged, what the payment will use:
  // the dynamic order (a second payer, by card or balance, is refused from now on) and the
  // visitor's USD for the year (so concurrent orders cannot pass the cap together).
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    o = CardOrderRow{};
    done.reset();
    retry = false;
    TS_ASSIGN_OR_RETURN(Rows rows,
                        tx.Query("SELECT account_id, payload, merchant_id, code_order_id,"
                                 " amount_minor, fee_minor, usd_minor, visitor, device_id, status"
                                 " FROM qrpay_card_orders WHERE order_id = ?",
                                 {std::string(order_id)}));
    if (rows.empty()) {
      return NotFound("order_id: \"" + std::string(order_id) + "\" is not a card payment order");
    }
    const Row& row = rows[0];
    TS_ASSIGN_OR_RETURN(o.account_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(o.payload, row.GetText(1));
    TS_ASSIGN_OR_RETURN(o.merchant_id, row.GetText(2));
    TS_ASSIGN_OR_RETURN(o.code_order_id, row.GetText(3));
    TS_ASSIGN_OR_RETURN(o.amount_minor, row.GetInt64(4));
    TS_ASSIGN_OR_RETURN(o.fee_minor, row.GetInt64(5));
    TS_ASSIGN_OR_RETURN(o.usd_minor, row.GetInt64(6));
    TS_ASSIGN_OR_RETURN(o.visitor, row.GetBool(7));
    TS_ASSIGN_OR_RETURN(o.device_id, row.GetText(8));
    TS_ASSIGN_OR_RETURN(const std::string status, row.GetText(9));
    TS_ASSIGN_OR_RETURN(m, p.OwnMerchant(o.merchant_id));
    TS_ASSIGN_OR_RETURN(claim_op_id, p.OpId("card_payment", o.account_id, order_id));
    done = p.FinishedOp(tx, "card_payment", o.account_id, order_id);
    if (done.has_value()) return Status::Ok();
    if (status == kOrderCharging) {
      retry = true;
      return Status::Ok();
    }
    // The code may have expired since the order started.
    TS_RETURN_IF_ERROR(p.VerifyOwnCode(o.payload).status());
    const std::int64_t now = p.NowMs();
    if (o.visitor) {
      // Other payments may have used the year since the order started: refuse before charging.
      TS_ASSIGN_OR_RETURN(const std::int64_t used,
                          VisitorUsdThisYear(tx, o.account_id, p.LocalDay(now)));
      TS_RETURN_IF_ERROR(CheckVisitorYear(p.config->visitor_cards, used, o.usd_minor));
      TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_card_usage (op_id, account_id,"
                                    " local_day, usd_minor) VALUES (?, ?, ?, ?)",
                                    {claim_op_id, o.account_id, p.LocalDay(now), o.usd_minor})
                             .status());
    }
    if (!o.code_order_id.empty()) {
      TS_ASSIGN_OR_RETURN(const std::optional<std::string> paid_by,
                          OrderPaidBy(tx, m->merchant_id, o.code_order_id));
      if (paid_by.has_value()) {
        return FailedPrecondition("order_id: order " + o.code_order_id + " of " + m->merchant_id +
                                  " was already paid or is being paid (receipt " + *paid_by + ")");
      }
      TS_RETURN_IF_ERROR(InsertOrderPaid(tx, m->merchant_id, o.code_order_id, claim_op_id));
    }
    return tx
        .Execute("UPDATE qrpay_card_orders SET status = ? WHERE order_id = ?",
                 {std::string(kOrderCharging), std::string(order_id)})
        .status();
  }));
  if (done.has_value()) return std::move(*done);
  const Amount amount(o.amount_minor, p.home());
  const Amount fee(o.fee_minor, p.home());
  const CardOrder order{.order_id = std::string(order_id),
                        .merchant = CardMerchantOf(*m),
                        .amount = Amount(o.amount_minor + o.fee_minor, p.home()),
                        .device_id = o.device_id};
  Result<CardCharge> charged = p.rail->Charge(order, payment_data);
  if (!charged.ok()) {
    return p.ChargeFailed(
        "card payment", order_id, retry, charged.status(), [&](Store& tx) -> Status {
          TS_RETURN_IF_ERROR(
              tx.Execute("DELETE FROM qrpay_card_usage WHERE op_id = ?", {claim_op_id}).status());
          if (!o.code_order_id.empty()) {
            TS_RETURN_IF_ERROR(ReleaseOrderPaid(tx, m->merchant_id, o.code_order_id, claim_op_id));
          }
          return tx
              .Execute("UPDATE qrpay_card_orders SET status = ? WHERE order_id = ? AND status = ?",
                       {std::string(kOrderStarted), std::string(order_id),
                        std::string(kOrderCharging)})
              .status();
        });
  }
  const CardCharge& charge = *charged;
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"card_payment", order_id}));
  Impl::OpState state = p.RunOp(
      "card_payment", o.account_id, order_id, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, o.account_id));
        // The card was charged: the merchant is paid. The dynamic order and the visitor's USD
        // were claimed under this op id before the charge.
        const std::string clearing = "card-clearing:" + std::string(p.home().alpha);
        const std::string merchant_label = "merchant:" + m->merchant_id;
        std::vector<ledger::Transfer> transfers;
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer pay,
            p.MakeTransfer(op_id, "card-pay", clearing, merchant_label, amount, kTransferPayment));
        transfers.push_back(pay);
        if (fee.minor_units() > 0) {
          TS_ASSIGN_OR_RETURN(
              ledger::Transfer fee_t,
              p.MakeTransfer(op_id, "card-fee", clearing, "fees:" + std::string(p.home().alpha),
                             fee, kTransferPayment));
          transfers.push_back(fee_t);
        }
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, transfers));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, merchant_label, "card_payment", a.alias, amount.minor_units(), now));
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_card_orders SET status = ? WHERE"
                                      " order_id = ?",
                                      {std::string(kOrderCompleted), std::string(order_id)})
                               .status());
        Receipt r =
            Impl::NewReceipt(op_id, "card_payment", a.account_id, amount, order.amount, now);
        r.merchant_id = m->merchant_id;
        r.merchant_name = m->name;
        r.payee_platform = p.id;
        r.fee = fee;
        r.reference = "card ..." + charge.token_last4 + " " + charge.reference;
        TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, "", 1));
        return r;
      });
  return std::move(state.result);
}
}  // namespace tapstack::qrpay
