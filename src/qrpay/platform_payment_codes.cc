// Platform, area 5: one-time payment codes shown by the payer and scanned by a merchant.

#include "qrpay/payment_code.h"
#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Rows;
using store::Store;

namespace {
constexpr int kPaymentCodeIssueAttemptsMax = 4;  // a collision of 53-bit codes is ~never
}  // namespace

Result<PaymentCode> Platform::IssuePaymentCode(std::string_view account_id,
                                               std::string_view device_id) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  for (int attempt = 0; attempt < kPaymentCodeIssueAttemptsMax; ++attempt) {
    std::string code;
    {
      std::lock_guard lock(p.random_mu);
      TS_ASSIGN_OR_RETURN(code, NewPaymentCode(*p.random));
    }
    PaymentCode out{code, p.NowMs() + kPaymentCodeValiditySeconds * kMillisPerSecond};
    bool collided = false;
    TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
      collided = false;
      TS_RETURN_IF_ERROR(LoadAccountRow(tx, account_id).status());
      TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT code FROM qrpay_payment_codes WHERE"
                                              " code = ?",
                                              {code}));
      if (!rows.empty()) {
        collided = true;
        return Status::Ok();
      }
      return tx
          .Execute(
              "INSERT INTO qrpay_payment_codes (code, account_id, device_id, expires_ms)"
              " VALUES (?, ?, ?, ?)",
              {code, std::string(account_id), std::string(device_id), out.expires_unix_ms})
          .status();
    }));
    if (!collided) return out;
  }
  return Internal("payment code: " + std::to_string(kPaymentCodeIssueAttemptsMax) +
                  " collisions in a row: the random source is broken");
}

Result<Receipt> Platform::PayByPaymentCode(std::string_view merchant_id, std::string_view code,
                                           const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(merchant_id));
  TS_RETURN_IF_ERROR(CheckPaymentCode(code));
  if (amount.currency() != *m->currency) {
    return InvalidArgument("amount: " + m->merchant_id + " is paid in " +
                           std::string(m->currency->alpha) + ", not " +
                           std::string(amount.currency().alpha));
  }
  if (amount.minor_units() <= 0) return InvalidArgument("amount: expected > 0");
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"code_payment", merchant_id, code, amount.ToString()}));
  // A merchant abroad scans the code in its currency: the payer is charged in the home currency
  // at the network's rate plus the markup (shown on the receipt; the payer's app showed the code,
  // so there is no quote to confirm first, as with the wallets' "show to pay" abroad).
  std::optional<FxConversion> fx;
  if (*m->currency != p.home()) {
    if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
    TS_ASSIGN_OR_RETURN(fx, p.rates->Convert(amount, p.home(), p.config->markup_bps));
  }
  Impl::OpState state = p.RunOp(
      "code_payment", merchant_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT account_id, expires_ms, used_by FROM"
                                                " qrpay_payment_codes WHERE code = ?",
                                                {std::string(code)}));
        if (rows.empty()) return NotFound("code: not a payment code of " + p.id);
        TS_ASSIGN_OR_RETURN(const std::string account_id, rows[0].GetText(0));
        TS_ASSIGN_OR_RETURN(const std::int64_t expires_ms, rows[0].GetInt64(1));
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> used_by, rows[0].GetOptionalText(2));
        if (used_by.has_value()) {
          return FailedPrecondition("code: already used (receipt " + *used_by + ")");
        }
        const std::int64_t now = p.NowMs();
        if (now >= expires_ms) {
          return FailedPrecondition("code: expired at " + std::to_string(expires_ms) + " ms, now " +
                                    std::to_string(now) + " ms");
        }
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        Impl::OwnPayment pay;
        pay.kind = "code_payment";
        pay.merchant = m;
        pay.merchant_amount = amount;
        pay.payer_amount = fx.has_value() ? fx->to : amount;
        if (fx.has_value()) {
          pay.rate = RateText(fx->rate_mantissa, fx->rate_scale);
          pay.markup_bps = fx->markup_bps;
        }
        TS_ASSIGN_OR_RETURN(Receipt r, p.PayOwnLocked(tx, op_id, a, pay));
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_payment_codes SET used_by = ? WHERE"
                                      " code = ?",
                                      {op_id, std::string(code)})
                               .status());
        return r;
      });
  return std::move(state.result);
}
}  // namespace tapstack::qrpay
