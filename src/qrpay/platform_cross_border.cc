// Platform, area 4: cross-border payments — quotes, own foreign-currency merchants through the FX
// positions, partner merchants through the network's QR clearing (both sides).

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using nlohmann::json;
using store::Row;
using store::Rows;
using store::Store;

// ---- Impl ----

Result<Receipt> Platform::Impl::DrivePartner(const std::string& op_id, const Receipt& pending,
                                             const json& request) {
  Result<json> answer = clearing->Send(request);
  if (!answer.ok() && answer.status().code() == ErrorCode::kUnavailable) {
    return Unavailable("partner payment " + op_id + " in flight: " + answer.status().message() +
                       "; retry with the same idempotency key");
  }
  // Any other error of the link is definite (clearing_link.h: the network refused the message):
  // the payment is refused like a decline.
  std::string status = "declined";
  std::string reason;
  std::string payee_payment_id;
  if (!answer.ok()) {
    reason = "the clearing refused the payment (" + answer.status().ToString() + ")";
  } else {
    const json& a = *answer;
    auto text = [&a](const char* member) -> std::optional<std::string> {
      if (!a.is_object() || !a.contains(member) || !a[member].is_string()) return std::nullopt;
      return a[member].get<std::string>();
    };
    const std::optional<std::string> answered = text("status");
    if (!answered.has_value() || (*answered != "approved" && *answered != "declined")) {
      // Whether the payee approved is unknown: keep the hold, a retry asks again (the network
      // gives the first answer to a clearing_id seen before).
      return Unavailable("partner payment " + op_id +
                         ": the clearing answered without a status (expected \"approved\" or "
                         "\"declined\"); retry with the same idempotency key");
    }
    status = *answered;
    reason = "declined by " + pending.payee_platform + ": " +
             text("reason").value_or(std::string("no reason given"));
    payee_payment_id = text("payee_payment_id").value_or(std::string());
  }
  return FinishOp(op_id, [&](Store& tx) -> Result<Receipt> {
    const std::string user = "user:" + pending.account_id;
    const std::string clearing_label = "network-clearing:" + std::string(home().alpha);
    TS_ASSIGN_OR_RETURN(
        ledger::Transfer hold,
        MakeTransfer(op_id, "hold", user, clearing_label, pending.payer_amount, kTransferPayment));
    const std::int64_t now = NowMs();
    TS_RETURN_IF_ERROR(SettleHold(tx, op_id, hold, /*post=*/status == "approved"));
    if (status != "approved") {
      TS_RETURN_IF_ERROR(DeleteSpending(tx, op_id));
      return FailedPrecondition(reason);
    }
    TS_RETURN_IF_ERROR(Post(tx, op_id, user, "partner_payment", pending.merchant_name,
                            -pending.payer_amount.minor_units(), now));
    Receipt r = pending;
    r.reference = payee_payment_id;
    r.created_unix_ms = now;
    r.replayed = false;  // completed by this call, even when it is a retry of the first phase
    TS_RETURN_IF_ERROR(RecordPayment(tx, r, "", 1));
    return r;
  });
}

// ---- Public calls ----

Result<Quote> Platform::QuoteMerchantQr(std::string_view account_id, std::string_view payload,
                                        std::optional<Amount> amount) {
  Impl& p = *impl_;
  if (p.rates == nullptr) return FailedPrecondition("rates: this platform has no rate source");
  TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
  const bool own = code.merchant.platform_id == p.id;
  if (own && *code.merchant.currency == p.home()) {
    return FailedPrecondition("payload: " + code.merchant.name + " is paid in " +
                              std::string(p.home().alpha) + ": pay it with PayMerchantQr");
  }
  if (own) {
    // Our own code: refuse a tampered or expired one before quoting it.
    TS_RETURN_IF_ERROR(p.VerifyOwnCode(payload).status());
  } else {
    TS_RETURN_IF_ERROR(p.config->Platform(code.merchant.platform_id).status());
    if (p.clearing == nullptr) {
      return FailedPrecondition("payload: " + code.merchant.name + " is acquired by " +
                                code.merchant.platform_id + " and this platform has no clearing");
    }
  }
  TS_ASSIGN_OR_RETURN(const Amount merchant_amount, Impl::CodeAmount(code, amount));
  {
    std::lock_guard lock(p.store_mu);
    TS_RETURN_IF_ERROR(LoadAccountRow(*p.store, account_id).status());
  }
  TS_ASSIGN_OR_RETURN(const FxConversion fx,
                      p.rates->Convert(merchant_amount, p.home(), p.config->markup_bps));
  TS_ASSIGN_OR_RETURN(const std::string quote_hex, p.RandomHex(16));
  Quote q;
  q.quote_id = "q" + quote_hex;
  q.account_id = std::string(account_id);
  q.merchant_id = code.merchant.merchant_id;
  q.merchant_name = code.merchant.name;
  q.payee_platform = code.merchant.platform_id;
  q.merchant_amount = merchant_amount;
  q.payer_amount = fx.to;
  q.rate = RateText(fx.rate_mantissa, fx.rate_scale);
  q.markup_bps = fx.markup_bps;
  q.rate_source = fx.source;
  q.business_date = fx.business_date;
  q.expires_unix_ms = p.NowMs() + p.config->quote_validity_seconds * kMillisPerSecond;
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    return tx
        .Execute(
            "INSERT INTO qrpay_quotes (quote_id, account_id, payload, merchant_id,"
            " merchant_name, payee_platform, amount_minor, currency, payer_amount_minor,"
            " rate, markup_bps, source, business_date, expires_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {q.quote_id, q.account_id, std::string(payload), q.merchant_id, q.merchant_name,
             q.payee_platform, merchant_amount.minor_units(),
             std::int64_t{merchant_amount.currency().numeric}, q.payer_amount.minor_units(), q.rate,
             q.markup_bps, q.rate_source, q.business_date, q.expires_unix_ms})
        .status();
  }));
  return q;
}

Result<Receipt> Platform::PayQuote(std::string_view account_id, std::string_view quote_id,
                                   std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"quote_payment", account_id, quote_id}));
  json clearing_request;
  Impl::OpState state = p.RunOp(
      "quote_payment", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool& in_flight) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        TS_ASSIGN_OR_RETURN(
            Rows rows,
            tx.Query("SELECT account_id, payload, payee_platform, amount_minor, currency,"
                     " payer_amount_minor, rate, markup_bps, expires_ms, used_by"
                     " FROM qrpay_quotes WHERE quote_id = ?",
                     {std::string(quote_id)}));
        if (rows.empty()) {
          return NotFound("quote_id: \"" + std::string(quote_id) + "\" is not a quote");
        }
        const Row& row = rows[0];
        TS_ASSIGN_OR_RETURN(const std::string owner, row.GetText(0));
        TS_ASSIGN_OR_RETURN(const std::string payload, row.GetText(1));
        TS_ASSIGN_OR_RETURN(const std::string payee_platform, row.GetText(2));
        TS_ASSIGN_OR_RETURN(const std::int64_t merchant_minor, row.GetInt64(3));
        TS_ASSIGN_OR_RETURN(const std::int64_t numeric, row.GetInt64(4));
        TS_ASSIGN_OR_RETURN(const std::int64_t payer_minor, row.GetInt64(5));
        TS_ASSIGN_OR_RETURN(const std::string rate, row.GetText(6));
        TS_ASSIGN_OR_RETURN(const std::int64_t markup, row.GetInt64(7));
        TS_ASSIGN_OR_RETURN(const std::int64_t expires_ms, row.GetInt64(8));
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> used_by, row.GetOptionalText(9));
        if (owner != a.account_id) {
          return FailedPrecondition("quote_id: the quote was made for another account");
        }
        if (used_by.has_value()) {
          return FailedPrecondition("quote_id: already paid (receipt " + *used_by + ")");
        }
        const std::int64_t now = p.NowMs();
        if (now >= expires_ms) {
          return FailedPrecondition("quote_id: the quote expired at " + std::to_string(expires_ms) +
                                    " ms, now " + std::to_string(now) + " ms: ask for a new quote");
        }
        TS_ASSIGN_OR_RETURN(const Currency* merchant_currency, CurrencyFromNumeric(numeric));
        const Amount merchant_amount(merchant_minor, *merchant_currency);
        const Amount payer_amount(payer_minor, p.home());
        // The quote is used once the payment (or its hold) succeeded: a refusal leaves it.
        auto use_quote = [&]() -> Status {
          return tx
              .Execute("UPDATE qrpay_quotes SET used_by = ? WHERE quote_id = ?",
                       {op_id, std::string(quote_id)})
              .status();
        };
        if (payee_platform == p.id) {
          TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
          TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
          Impl::OwnPayment pay;
          pay.kind = "cross_border_payment";
          pay.merchant = m;
          pay.merchant_amount = merchant_amount;
          pay.payer_amount = payer_amount;
          pay.rate = rate;
          pay.markup_bps = markup;
          pay.order_id = code.dynamic ? code.order_id : std::string();
          TS_ASSIGN_OR_RETURN(Receipt paid, p.PayOwnLocked(tx, op_id, a, pay));
          TS_RETURN_IF_ERROR(use_quote());
          return paid;
        }
        // A partner platform's merchant: hold now, the payee decides.
        if (p.clearing == nullptr) {
          return FailedPrecondition("clearing: this platform has no clearing link");
        }
        TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, ReadMerchantQr(payload));
        TS_RETURN_IF_ERROR(p.CheckOutgoing(tx, a, payer_minor, now));
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer hold,
            p.MakeTransfer(op_id, "hold", a.label,
                           "network-clearing:" + std::string(p.home().alpha), payer_amount,
                           kTransferPayment, ledger::transfer_flags::kPending));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {hold}));
        TS_RETURN_IF_ERROR(p.RecordSpending(tx, op_id, a.account_id, payer_minor, now));
        TS_RETURN_IF_ERROR(use_quote());
        in_flight = true;
        Receipt r = Impl::NewReceipt(op_id, "partner_payment", a.account_id, merchant_amount,
                                     payer_amount, now);
        r.merchant_id = code.merchant.merchant_id;
        r.merchant_name = code.merchant.name;
        r.payee_platform = payee_platform;
        r.rate = rate;
        r.markup_bps = markup;
        r.reference = payload;  // replaced by the payee's payment id once approved
        return r;
      });
  if (!state.result.ok() || !state.in_flight) return std::move(state.result);
  const Receipt pending = *state.result;
  std::string alias;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(*p.store, pending.account_id));
    alias = a.alias;
  }
  clearing_request = json{{"type", "qr_payment"},
                          {"clearing_id", p.id + ":" + pending.receipt_id},
                          {"payer_platform", p.id},
                          {"payee_platform", pending.payee_platform},
                          {"payload", pending.reference},
                          {"amount", AmountJson(pending.amount)},
                          {"payer_amount", AmountJson(pending.payer_amount)},
                          {"rate", pending.rate},
                          {"markup_bps", pending.markup_bps},
                          {"payer_alias", alias}};
  return p.DrivePartner(pending.receipt_id, pending, clearing_request);
}

nlohmann::json Platform::HandleClearing(const nlohmann::json& request) {
  Impl& p = *impl_;
  const std::string clearing_id =
      request.is_object() && request.contains("clearing_id") && request["clearing_id"].is_string()
          ? request["clearing_id"].get<std::string>()
          : std::string();
  auto decline = [&](const std::string& reason) {
    return json{{"status", "declined"}, {"clearing_id", clearing_id}, {"reason", reason}};
  };
  if (clearing_id.empty() || clearing_id.size() > 2 * kIdempotencyKeyBytesMax) {
    return decline("clearing_id: expected a string of 1-256 bytes");
  }
  // A member of another type than the protocol's declines the request naming it (json::value
  // would throw); an absent optional member takes its default.
  auto string_member = [&](const char* member, std::string fallback) -> std::optional<std::string> {
    if (!request.contains(member)) return fallback;
    if (!request[member].is_string()) return std::nullopt;
    return request[member].get<std::string>();
  };
  const std::optional<std::string> type = string_member("type", "");
  if (type != "qr_payment") return decline("type: expected \"qr_payment\"");
  if (string_member("payee_platform", "") != p.id) {
    return decline("payee_platform: this is " + p.id);
  }
  if (!request.contains("payload") || !request["payload"].is_string()) {
    return decline("payload: expected the merchant's code");
  }
  const std::string payload = request["payload"].get<std::string>();
  Result<Amount> amount = AmountFromJson(request.value("amount", json()), "amount");
  if (!amount.ok()) return decline(amount.status().message());
  Result<Amount> payer_amount =
      AmountFromJson(request.value("payer_amount", json()), "payer_amount");
  if (!payer_amount.ok()) return decline(payer_amount.status().message());
  const std::optional<std::string> payer_alias = string_member("payer_alias", "unknown payer");
  if (!payer_alias.has_value()) return decline("payer_alias: expected a string");
  const std::optional<std::string> payer_platform = string_member("payer_platform", "");
  if (!payer_platform.has_value()) return decline("payer_platform: expected a string");
  const std::optional<std::string> rate = string_member("rate", "");
  if (!rate.has_value()) return decline("rate: expected decimal text");
  std::int64_t markup = 0;
  if (request.contains("markup_bps")) {
    if (!request["markup_bps"].is_number_integer()) {
      return decline("markup_bps: expected an integer");
    }
    markup = request["markup_bps"].get<std::int64_t>();
  }
  json answer;
  const Status committed = p.committer->Run([&](Store& tx) -> Status {
    answer = json();
    TS_ASSIGN_OR_RETURN(Rows seen, tx.Query("SELECT response FROM qrpay_clearing_in WHERE"
                                            " clearing_id = ?",
                                            {clearing_id}));
    if (!seen.empty()) {
      TS_ASSIGN_OR_RETURN(const std::string text, seen[0].GetText(0));
      answer = json::parse(text, nullptr, false);
      return Status::Ok();
    }
    TS_ASSIGN_OR_RETURN(const std::string op_id, p.OpId("clearing_in", "network", clearing_id));
    auto credit = [&]() -> Result<std::string> {
      TS_ASSIGN_OR_RETURN(const ScannedMerchantQr code, p.VerifyOwnCode(payload));
      TS_ASSIGN_OR_RETURN(const MerchantProfile* m, p.OwnMerchant(code.merchant.merchant_id));
      if (amount->currency() != *m->currency || amount->minor_units() <= 0) {
        return InvalidArgument("amount: expected > 0 in " + std::string(m->currency->alpha));
      }
      if (code.dynamic && !(*code.amount == *amount)) {
        return InvalidArgument("amount: the order is for " + code.amount->ToString());
      }
      if (code.dynamic) {
        TS_ASSIGN_OR_RETURN(const std::optional<std::string> paid_by,
                            OrderPaidBy(tx, m->merchant_id, code.order_id));
        if (paid_by.has_value()) {
          return FailedPrecondition("order_id: order " + code.order_id + " of " + m->merchant_id +
                                    " was already paid");
        }
        TS_RETURN_IF_ERROR(InsertOrderPaid(tx, m->merchant_id, code.order_id, op_id));
      }
      const std::string merchant_label = "merchant:" + m->merchant_id;
      TS_ASSIGN_OR_RETURN(ledger::Transfer t,
                          p.MakeTransfer(op_id, "clearing-in",
                                         "network-clearing:" + std::string(m->currency->alpha),
                                         merchant_label, *amount, kTransferClearing));
      TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
      const std::int64_t now = p.NowMs();
      TS_RETURN_IF_ERROR(p.Post(tx, op_id, merchant_label, "partner_payment", *payer_alias,
                                amount->minor_units(), now));
      Receipt r = Impl::NewReceipt(op_id, "partner_payment", *payer_platform + ":" + *payer_alias,
                                   *amount, *payer_amount, now);
      r.merchant_id = m->merchant_id;
      r.rate = *rate;
      r.markup_bps = markup;
      TS_RETURN_IF_ERROR(p.RecordPayment(tx, r, "", 1));
      return op_id;
    };
    Result<std::string> credited = credit();
    if (!credited.ok()) TS_RETURN_IF_ERROR(p.CheckRefusal(tx, credited.status()));
    answer = credited.ok() ? json{{"status", "approved"},
                                  {"clearing_id", clearing_id},
                                  {"payee_payment_id", *credited}}
                           : decline(credited.status().message());
    return tx
        .Execute(
            "INSERT INTO qrpay_clearing_in (clearing_id, response, created_ms) VALUES"
            " (?, ?, ?)",
            {clearing_id, answer.dump(), p.NowMs()})
        .status();
  });
  if (!committed.ok()) {
    // Nothing was recorded: the network retries with the same clearing_id.
    return json{
        {"status", "error"}, {"clearing_id", clearing_id}, {"reason", committed.ToString()}};
  }
  return answer;
}
}  // namespace tapstack::qrpay
