// Platform, area 3: cards bound for top-ups and withdrawals, over the CardRail.

#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using nlohmann::json;
using store::Row;
using store::Rows;
using store::Store;

// ---- Impl ----

CardMerchant Platform::Impl::WalletCardMerchant() const {
  return CardMerchant{id, info->name.substr(0, 25), "Online", info->country, "6540"};
}

Result<Receipt> Platform::Impl::DriveWithdrawal(const std::string& op_id, const Receipt& pending,
                                                const CardCredit& credit) {
  Result<std::string> answer = rail->Credit(credit);
  if (!answer.ok() && answer.status().code() == ErrorCode::kUnavailable) {
    return Unavailable("withdrawal " + op_id + " in flight: " + answer.status().message() +
                       "; retry with the same idempotency key");
  }
  return FinishOp(op_id, [&](Store& tx) -> Result<Receipt> {
    const std::string user = "user:" + pending.account_id;
    const std::int64_t now = NowMs();
    TS_ASSIGN_OR_RETURN(
        ledger::Transfer hold,
        MakeTransfer(op_id, "hold", user, "card-clearing:" + std::string(home().alpha),
                     pending.payer_amount, kTransferWithdrawal));
    TS_RETURN_IF_ERROR(SettleHold(tx, op_id, hold, /*post=*/answer.ok()));
    if (!answer.ok()) {
      return FailedPrecondition("card: the credit was refused (" + answer.status().message() +
                                "); the hold was released");
    }
    TS_RETURN_IF_ERROR(Post(tx, op_id, user, "withdrawal", "card " + pending.reference,
                            -pending.payer_amount.minor_units(), now));
    Receipt r = pending;
    r.reference = pending.reference + " " + *answer;
    r.created_unix_ms = now;
    r.replayed = false;  // completed by this call, even when it is a retry of the first phase
    return r;
  });
}

Status Platform::Impl::ChargeFailed(std::string_view what, std::string_view order_id, bool retry,
                                    const Status& error,
                                    const store::GroupCommitter::Body& release) {
  const std::string order = std::string(what) + " order " + std::string(order_id);
  if (error.code() == ErrorCode::kUnavailable) {
    return Unavailable(order + " is charging: " + error.message() +
                       "; retry with the same order id");
  }
  // card_rail.h: a decline is kFailedPrecondition naming DE39. Any other answer to a retry may
  // come from a rail that lost the order (a restart) and cannot say whether it charged it.
  const bool declined = error.code() == ErrorCode::kFailedPrecondition &&
                        error.message().find("DE39") != std::string::npos;
  if (retry && !declined) {
    return Unavailable(order + ": the outcome of its card charge is unknown (the card rail "
                       "answered: " + error.ToString() +
                       "); it stays \"charging\" and is settled by reconciliation with the "
                       "network");
  }
  TS_RETURN_IF_ERROR(committer->Run(release));
  return error;
}

// ---- Public calls ----

Result<CardPaymentRequest> Platform::StartTopUp(std::string_view account_id, const Amount& amount,
                                                std::string_view device_id) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(p.NeedRail());
  TS_RETURN_IF_ERROR(CheckText("device_id", device_id, kDeviceIdBytesMax));
  TS_RETURN_IF_ERROR(p.CheckHomeAmount(amount));
  TS_ASSIGN_OR_RETURN(const std::string order_hex, p.RandomHex(12));
  const std::string order_id = "tu-" + order_hex;
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
    TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, amount.minor_units()));
    return tx
        .Execute(
            "INSERT INTO qrpay_topups (order_id, account_id, amount_minor, device_id, status,"
            " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            {order_id, a.account_id, amount.minor_units(), std::string(device_id),
             std::string(kOrderStarted), p.NowMs()})
        .status();
  }));
  const CardOrder order{.order_id = order_id,
                        .merchant = p.WalletCardMerchant(),
                        .amount = amount,
                        .device_id = std::string(device_id)};
  return p.rail->PaymentRequest(order);
}

Result<Receipt> Platform::CompleteTopUp(std::string_view order_id,
                                        const nlohmann::json& payment_data) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(p.NeedRail());
  TS_RETURN_IF_ERROR(CheckText("order_id", order_id, kCardOrderIdBytesMax));
  std::string account_id;
  std::string device_id;
  std::int64_t amount_minor = 0;
  std::optional<Result<Receipt>> done;
  bool retry = false;  // the order was charging already: an earlier call may have charged it
  // Claims the order ("charging") in a transaction of its own before the card is charged: a crash
  // or a lost answer leaves a row that a retry drives again, and the balance cap counts it.
  TS_RETURN_IF_ERROR(p.committer->Run([&](Store& tx) -> Status {
    done.reset();
    retry = false;
    TS_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT account_id, amount_minor, device_id, status"
                                            " FROM qrpay_topups WHERE order_id = ?",
                                            {std::string(order_id)}));
    if (rows.empty()) {
      return NotFound("order_id: \"" + std::string(order_id) + "\" is not a top-up order");
    }
    TS_ASSIGN_OR_RETURN(account_id, rows[0].GetText(0));
    TS_ASSIGN_OR_RETURN(amount_minor, rows[0].GetInt64(1));
    TS_ASSIGN_OR_RETURN(device_id, rows[0].GetText(2));
    TS_ASSIGN_OR_RETURN(const std::string status, rows[0].GetText(3));
    // A completed order answers from the journal without asking the rail again.
    done = p.FinishedOp(tx, "top_up", account_id, order_id);
    if (done.has_value()) return Status::Ok();
    if (status == kOrderCharging) {
      retry = true;
      return Status::Ok();
    }
    // The cap again (it was checked when the order started): other top-ups completed or being
    // charged since then count, so parallel orders cannot pass it together.
    TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
    TS_ASSIGN_OR_RETURN(Row charging,
                        tx.QueryRow("SELECT COALESCE(SUM(amount_minor), 0) AS total FROM"
                                    " qrpay_topups WHERE account_id = ? AND status = ?",
                                    {account_id, std::string(kOrderCharging)}));
    TS_ASSIGN_OR_RETURN(const std::int64_t charging_minor, charging.GetInt64("total"));
    TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, charging_minor + amount_minor));
    return tx
        .Execute("UPDATE qrpay_topups SET status = ? WHERE order_id = ?",
                 {std::string(kOrderCharging), std::string(order_id)})
        .status();
  }));
  if (done.has_value()) return std::move(*done);
  const Amount amount(amount_minor, p.home());
  const CardOrder order{.order_id = std::string(order_id),
                        .merchant = p.WalletCardMerchant(),
                        .amount = amount,
                        .device_id = device_id};
  Result<CardCharge> charged = p.rail->Charge(order, payment_data);
  if (!charged.ok()) {
    return p.ChargeFailed("top-up", order_id, retry, charged.status(), [&](Store& tx) -> Status {
      return tx
          .Execute("UPDATE qrpay_topups SET status = ? WHERE order_id = ? AND status = ?",
                   {std::string(kOrderStarted), std::string(order_id),
                    std::string(kOrderCharging)})
          .status();
    });
  }
  const CardCharge& charge = *charged;
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"top_up", order_id}));
  TS_ASSIGN_OR_RETURN(Bytes card_digest,
                      Digest({"tapstack qrpay funding card", p.id, account_id, charge.token}));
  const std::string card_id = "c" + LowerHex(ByteView(card_digest).first(8));
  Impl::OpState state = p.RunOp(
      "top_up", account_id, order_id, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        // The card was charged: the money is the payer's whatever the balance cap says
        // now (it was checked when the order was claimed).
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer t,
            p.MakeTransfer(op_id, "top-up", "card-clearing:" + std::string(p.home().alpha), a.label,
                           amount, kTransferTopUp));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(p.Post(tx, op_id, a.label, "top_up", "card ..." + charge.token_last4,
                                  amount.minor_units(), now));
        TS_RETURN_IF_ERROR(
            tx.Execute("INSERT INTO qrpay_funding_cards (card_id, account_id, token,"
                       " token_expiry, token_last4, created_ms) VALUES (?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT (card_id) DO UPDATE SET token_expiry ="
                       " excluded.token_expiry",
                       {card_id, a.account_id, charge.token, charge.token_expiry,
                        charge.token_last4, now})
                .status());
        TS_RETURN_IF_ERROR(tx.Execute("UPDATE qrpay_topups SET status = ? WHERE order_id = ?",
                                      {std::string(kOrderCompleted), std::string(order_id)})
                               .status());
        Receipt r = Impl::NewReceipt(op_id, "top_up", a.account_id, amount, amount, now);
        r.reference = card_id + " " + charge.reference;
        return r;
      });
  return std::move(state.result);
}

Result<std::vector<FundingCard>> Platform::FundingCards(std::string_view account_id) {
  Impl& p = *impl_;
  std::lock_guard lock(p.store_mu);
  TS_RETURN_IF_ERROR(LoadAccountRow(*p.store, account_id).status());
  TS_ASSIGN_OR_RETURN(Rows rows,
                      p.store->Query("SELECT card_id, token_last4, token_expiry FROM"
                                     " qrpay_funding_cards WHERE account_id = ? ORDER BY card_id",
                                     {std::string(account_id)}));
  std::vector<FundingCard> out;
  for (const Row& row : rows) {
    FundingCard card;
    TS_ASSIGN_OR_RETURN(card.card_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(card.token_last4, row.GetText(1));
    TS_ASSIGN_OR_RETURN(card.token_expiry, row.GetText(2));
    out.push_back(std::move(card));
  }
  return out;
}

Result<Receipt> Platform::Withdraw(std::string_view account_id, std::string_view card_id,
                                   const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  TS_RETURN_IF_ERROR(p.NeedRail());
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"withdrawal", account_id, card_id, amount.ToString()}));
  CardCredit credit;
  Impl::OpState state = p.RunOp(
      "withdrawal", account_id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool& in_flight) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        TS_RETURN_IF_ERROR(p.CheckHomeAmount(amount));
        TS_ASSIGN_OR_RETURN(Rows cards, tx.Query("SELECT token_last4 FROM qrpay_funding_cards WHERE"
                                                 " card_id = ? AND account_id = ?",
                                                 {std::string(card_id), a.account_id}));
        if (cards.empty()) {
          return NotFound("card_id: \"" + std::string(card_id) + "\" is not a funding card of " +
                          a.account_id);
        }
        TS_ASSIGN_OR_RETURN(const std::string last4, cards[0].GetText(0));
        TS_RETURN_IF_ERROR(p.CheckFunds(a.label, "balance", amount.minor_units()));
        TS_ASSIGN_OR_RETURN(
            ledger::Transfer hold,
            p.MakeTransfer(op_id, "hold", a.label, "card-clearing:" + std::string(p.home().alpha),
                           amount, kTransferWithdrawal, ledger::transfer_flags::kPending));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {hold}));
        in_flight = true;
        Receipt r = Impl::NewReceipt(op_id, "withdrawal", a.account_id, amount, amount, p.NowMs());
        r.reference = std::string(card_id) + " ..." + last4;
        return r;
      });
  if (!state.result.ok() || !state.in_flight) return std::move(state.result);
  const Receipt pending = *state.result;
  std::string token;
  std::string expiry;
  {
    std::lock_guard lock(p.store_mu);
    TS_ASSIGN_OR_RETURN(Row row, p.store->QueryRow("SELECT token, token_expiry FROM"
                                                   " qrpay_funding_cards WHERE card_id = ?",
                                                   {std::string(card_id)}));
    TS_ASSIGN_OR_RETURN(token, row.GetText(0));
    TS_ASSIGN_OR_RETURN(expiry, row.GetText(1));
  }
  credit.credit_id = "wd-" + pending.receipt_id;
  credit.token = token;
  credit.token_expiry = expiry;
  credit.amount = pending.amount;
  credit.merchant = p.WalletCardMerchant();
  return p.DriveWithdrawal(pending.receipt_id, pending, credit);
}
}  // namespace tapstack::qrpay
