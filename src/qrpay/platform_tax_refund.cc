// Platform, area 6: tax refunds credited by a refund operator from its prefunded account.

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Rows;
using store::Store;

Result<Receipt> Platform::TaxRefund(std::string_view operator_id, std::string_view account_id,
                                    std::string_view receipt_reference, const Amount& refund,
                                    std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const RefundOperatorInfo* op, p.config->RefundOperator(operator_id));
  if (op->platform_id != p.id) {
    return NotFound("operator_id: \"" + op->id + "\" refunds through " + op->platform_id);
  }
  TS_RETURN_IF_ERROR(CheckText("receipt_reference", receipt_reference, kReceiptReferenceBytesMax));
  if (refund.minor_units() <= 0) return InvalidArgument("refund: expected > 0");
  if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"tax_refund", operator_id, account_id,
                                            receipt_reference, refund.ToString()}));
  // The network's rate, no markup: the traveller gets the refund's full value.
  TS_ASSIGN_OR_RETURN(const FxConversion fx, p.rates->Convert(refund, p.home(), 0));
  Impl::OpState state = p.RunOp(
      "tax_refund", operator_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        TS_ASSIGN_OR_RETURN(Rows seen, tx.Query("SELECT op_id FROM qrpay_tax_refunds WHERE"
                                                " operator_id = ? AND receipt_reference = ?",
                                                {op->id, std::string(receipt_reference)}));
        if (!seen.empty()) {
          TS_ASSIGN_OR_RETURN(const std::string first, seen[0].GetText(0));
          return AlreadyExists("receipt_reference: " + std::string(receipt_reference) +
                               " was already refunded (receipt " + first + ")");
        }
        if (fx.to.minor_units() <= 0) {
          return InvalidArgument("refund: converts to nothing in " + std::string(p.home().alpha));
        }
        const std::string operator_label = "refund-operator:" + op->id;
        TS_RETURN_IF_ERROR(p.CheckFunds(operator_label, "operator funds", fx.to.minor_units()));
        TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, fx.to.minor_units()));
        TS_ASSIGN_OR_RETURN(ledger::Transfer t, p.MakeTransfer(op_id, "tax-refund", operator_label,
                                                               a.label, fx.to, kTransferTaxRefund));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, a.label, "tax_refund", op->name, fx.to.minor_units(), now));
        TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qrpay_tax_refunds (operator_id,"
                                      " receipt_reference, op_id) VALUES (?, ?, ?)",
                                      {op->id, std::string(receipt_reference), op_id})
                               .status());
        Receipt r = Impl::NewReceipt(op_id, "tax_refund", a.account_id, refund, fx.to, now);
        r.merchant_id = op->id;
        r.merchant_name = op->name;
        r.rate = RateText(fx.rate_mantissa, fx.rate_scale);
        r.reference = std::string(receipt_reference);
        return r;
      });
  return std::move(state.result);
}
}  // namespace tapstack::qrpay
