// WalletService: bank cards (add through TSP provisioning, OTP, other devices, default card,
// delete, transactions) and the TSP notification feed.
#include <algorithm>

#include "core/hex.h"
#include "core/pan.h"
#include "wallet/limits.h"
#include "wallet/wallet_service.h"

namespace tapstack::wallet {

namespace {

constexpr const char* kCardColumns =
    "card_id, card_type, masked_pan, last4, pan_expiry, bin_low, state, created_unix_ms";

// "MM/YY" as printed on the card (ISO/IEC 7813 shows expiry as month/year) → "YYMM", the order
// of EMV tag 5F24 and ISO 8583 DE14 that the TSP expects.
Result<std::string> ExpiryToYymm(std::string_view expiry) {
  if (expiry.size() != 5 || expiry[2] != '/' || !IsAllDigits(expiry.substr(0, 2)) ||
      !IsAllDigits(expiry.substr(3, 2))) {
    return InvalidArgument("expiry: expected MM/YY");
  }
  int month = (expiry[0] - '0') * 10 + (expiry[1] - '0');
  if (month < 1 || month > 12) return InvalidArgument("expiry: month must be 01-12");
  return std::string(expiry.substr(3, 2)) + std::string(expiry.substr(0, 2));
}

Status CheckAddCard(const AddCardRequest& r) {
  if (r.device_id.empty()) return InvalidArgument("device_id: expected the device to provision");
  if (r.card_type != "debit" && r.card_type != "credit") {
    return InvalidArgument("card_type: expected \"debit\" or \"credit\"");
  }
  if ((r.cvv2.size() != 3 && r.cvv2.size() != 4) || !IsAllDigits(r.cvv2)) {
    return InvalidArgument("cvv2: expected 3 or 4 digits");
  }
  if (r.holder_name.empty() || r.holder_name.size() > kHolderNameBytesMax) {
    return InvalidArgument("holder_name: expected 1-64 bytes");
  }
  return Status::Ok();
}

bool LiveToken(const CardToken& t) { return t.state != "deleted"; }

// Removes a card and its token rows, in the caller's transaction. Deleting the default card makes
// the oldest remaining card the default (or none).
Status DeleteCardRows(store::Store& s, const std::string& user_id, const std::string& card_id) {
  TS_RETURN_IF_ERROR(
      s.Execute("DELETE FROM wallet_card_tokens WHERE card_id = ?", {card_id}).status());
  TS_RETURN_IF_ERROR(s.Execute("DELETE FROM wallet_cards WHERE card_id = ?", {card_id}).status());
  return s
      .Execute(
          "UPDATE wallet_users SET default_card_id = (SELECT card_id FROM wallet_cards WHERE "
          "user_id = ? ORDER BY created_unix_ms, card_id LIMIT 1) WHERE user_id = ? AND "
          "default_card_id = ?",
          {user_id, user_id, card_id})
      .status();
}

}  // namespace

void WalletService::FillProduct(Card& card, const std::string& bin_low) const {
  for (const CardProduct& p : options_.card_products) {
    if (p.bin_low == bin_low) {
      card.bank_name = p.bank_name;
      card.short_name = p.short_name;
      card.art_color = p.art_color;
      card.promotions = p.promotions;
      return;
    }
  }
}

Result<std::string> WalletService::DefaultCardId(const std::string& user_id) {
  TS_ASSIGN_OR_RETURN(
      store::Row row,
      store_->QueryRow("SELECT default_card_id FROM wallet_users WHERE user_id = ?", {user_id}));
  TS_ASSIGN_OR_RETURN(auto id, row.GetOptionalText("default_card_id"));
  return id.value_or("");
}

Result<std::vector<CardToken>> WalletService::LoadCardTokens(const std::string& card_id) {
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_->Query(
          "SELECT token_id, device_id, token_last4, token_expiry, state FROM wallet_card_tokens "
          "WHERE card_id = ? ORDER BY updated_unix_ms, token_id",
          {card_id}));
  std::vector<CardToken> out;
  for (const store::Row& row : rows) {
    CardToken t;
    TS_ASSIGN_OR_RETURN(t.token_id, row.GetText("token_id"));
    TS_ASSIGN_OR_RETURN(t.device_id, row.GetText("device_id"));
    TS_ASSIGN_OR_RETURN(t.token_last4, row.GetText("token_last4"));
    TS_ASSIGN_OR_RETURN(t.token_expiry, row.GetText("token_expiry"));
    TS_ASSIGN_OR_RETURN(t.state, row.GetText("state"));
    out.push_back(std::move(t));
  }
  return out;
}

Result<Card> WalletService::CardFromRow(const store::Row& row, const std::string& default_card_id) {
  Card c;
  TS_ASSIGN_OR_RETURN(c.card_id, row.GetText("card_id"));
  TS_ASSIGN_OR_RETURN(c.card_type, row.GetText("card_type"));
  TS_ASSIGN_OR_RETURN(c.masked_pan, row.GetText("masked_pan"));
  TS_ASSIGN_OR_RETURN(c.last4, row.GetText("last4"));
  TS_ASSIGN_OR_RETURN(c.pan_expiry, row.GetText("pan_expiry"));
  TS_ASSIGN_OR_RETURN(std::string bin_low, row.GetText("bin_low"));
  TS_ASSIGN_OR_RETURN(c.state, row.GetText("state"));
  TS_ASSIGN_OR_RETURN(c.created_unix_ms, row.GetInt64("created_unix_ms"));
  c.is_default = c.card_id == default_card_id;
  FillProduct(c, bin_low);
  TS_ASSIGN_OR_RETURN(c.tokens, LoadCardTokens(c.card_id));
  return c;
}

Result<Card> WalletService::LoadCard(const std::string& user_id, const std::string& card_id) {
  auto row = store_->QueryRow(std::string("SELECT ") + kCardColumns +
                                  " FROM wallet_cards WHERE card_id = ? AND user_id = ?",
                              {card_id, user_id});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) return NotFound("card_id: no such card");
    return row.status();
  }
  TS_ASSIGN_OR_RETURN(std::string default_id, DefaultCardId(user_id));
  return CardFromRow(*row, default_id);
}

Status WalletService::InsertCardToken(const std::string& card_id, const TspToken& token) {
  return store_
      ->Execute(
          "INSERT INTO wallet_card_tokens (token_id, card_id, device_id, token_last4, "
          "token_expiry, "
          "state, updated_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_id) DO UPDATE "
          "SET "
          "state = excluded.state, token_last4 = excluded.token_last4, token_expiry = "
          "excluded.token_expiry, updated_unix_ms = excluded.updated_unix_ms",
          {token.token_id, card_id, token.device_id, token.token_last4, token.token_expiry,
           token.state, NowMs()})
      .status();
}

Result<AddCardResult> WalletService::AddCard(const std::string& user_id,
                                             const AddCardRequest& request) {
  TS_RETURN_IF_ERROR(CheckAddCard(request));
  auto pan = Pan::Parse(request.pan);
  if (!pan.ok()) return InvalidArgument("pan: expected 12-19 digits with a valid Luhn check digit");
  TS_ASSIGN_OR_RETURN(std::string pan_expiry, ExpiryToYymm(request.expiry));
  const CardProduct* product = FindCardProduct(options_.card_products, *pan);
  if (product == nullptr)
    return InvalidArgument("pan: the wallet does not support this card's bank");

  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Device device, LoadDevice(user_id, request.device_id));
  if (device.state != "active") {
    return FailedPrecondition("device_id: the device is " + device.state);
  }
  TS_ASSIGN_OR_RETURN(
      store::Row count,
      store_->QueryRow("SELECT count(*) AS n FROM wallet_cards WHERE user_id = ?", {user_id}));
  TS_ASSIGN_OR_RETURN(std::int64_t cards, count.GetInt64("n"));
  TS_ASSIGN_OR_RETURN(
      store::Row user,
      store_->QueryRow("SELECT phone FROM wallet_users WHERE user_id = ?", {user_id}));
  TS_ASSIGN_OR_RETURN(std::string phone, user.GetText("phone"));

  ProvisioningRequest provisioning{.requestor_id = options_.requestor_id,
                                   .device_id = device.device_id,
                                   .device_public_key = device.se_public_key,
                                   .storage = device.storage,
                                   .pan = *pan,
                                   .pan_expiry = pan_expiry,
                                   .cvv2 = request.cvv2,
                                   .holder_name = request.holder_name,
                                   .phone = phone};
  // A card whose provisioning is still pending may be added again (the TSP then answers with the
  // same token and a fresh OTP), so the limit is checked after the TSP names the token; a new
  // card beyond the limit is refused before the TSP is asked.
  if (cards >= static_cast<std::int64_t>(kBankCardsPerAccountMax)) {
    TS_ASSIGN_OR_RETURN(
        store::Rows pending,
        store_->Query("SELECT count(*) AS n FROM wallet_cards WHERE user_id = ? AND state = "
                      "'pending_verification'",
                      {user_id}));
    TS_ASSIGN_OR_RETURN(std::int64_t n_pending, pending[0].GetInt64("n"));
    if (n_pending == 0) {
      SecureWipe(provisioning.cvv2.data(), provisioning.cvv2.size());
      return FailedPrecondition("card: at most " + std::to_string(kBankCardsPerAccountMax) +
                                " bank cards per account");
    }
  }
  auto answer = tsp_->Provision(provisioning);
  SecureWipe(provisioning.cvv2.data(), provisioning.cvv2.size());
  if (!answer.ok()) return answer.status();

  AddCardResult result;
  result.response_code = answer->response_code;
  if (answer->decision == ProvisioningDecision::kDeclined) {
    result.outcome = AddCardOutcome::kDeclined;
    result.decline_reason = answer->decline_reason;
    return result;
  }
  if (!answer->token.has_value()) return Internal("tsp answer: token missing");
  const TspToken& token = *answer->token;
  const bool approved = answer->decision == ProvisioningDecision::kApproved;
  result.outcome = approved ? AddCardOutcome::kActive : AddCardOutcome::kPendingVerification;
  result.credentials = answer->credentials;
  result.otp = answer->otp;
  const std::string card_state = approved ? "active" : "pending_verification";

  // The TSP may answer with a token the wallet knows (a pending card added again).
  std::string card_id;
  auto known = store_->QueryRow(
      "SELECT t.card_id AS card_id FROM wallet_card_tokens t JOIN wallet_cards c ON c.card_id = "
      "t.card_id WHERE t.token_id = ? AND c.user_id = ?",
      {token.token_id, user_id});
  if (known.ok()) {
    TS_ASSIGN_OR_RETURN(card_id, known->GetText("card_id"));
  } else if (known.status().code() != ErrorCode::kNotFound) {
    return known.status();
  } else if (cards >= static_cast<std::int64_t>(kBankCardsPerAccountMax)) {
    // A new token although the account is full: give it back rather than keep an orphan.
    (void)tsp_->Delete(token.token_id, "wallet card limit reached");
    return FailedPrecondition("card: at most " + std::to_string(kBankCardsPerAccountMax) +
                              " bank cards per account");
  }
  const bool new_card = card_id.empty();
  if (new_card) {
    TS_ASSIGN_OR_RETURN(card_id, NewId());
  }
  const std::int64_t now = NowMs();
  const std::string masked = pan->Masked();
  const std::string last4(pan->LastFour());
  TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) -> Status {
    if (new_card) {
      TS_RETURN_IF_ERROR(
          s.Execute("INSERT INTO wallet_cards (card_id, user_id, card_type, masked_pan, last4, "
                    "pan_expiry, "
                    "bin_low, state, created_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {card_id, user_id, request.card_type, masked, last4, pan_expiry,
                     product->bin_low, card_state, now})
              .status());
      // The first card becomes the default.
      TS_RETURN_IF_ERROR(s.Execute("UPDATE wallet_users SET default_card_id = ? WHERE user_id = ? "
                                   "AND default_card_id IS NULL",
                                   {card_id, user_id})
                             .status());
    } else {
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE wallet_cards SET state = ? WHERE card_id = ?", {card_state, card_id})
              .status());
    }
    return InsertCardToken(card_id, token);
  }));
  TS_ASSIGN_OR_RETURN(result.card, LoadCard(user_id, card_id));
  return result;
}

Result<VerifyCardResult> WalletService::VerifyCard(const std::string& user_id,
                                                   const std::string& card_id,
                                                   const std::string& otp) {
  if (otp.empty() || otp.size() > 12 || !IsAllDigits(otp)) {
    return InvalidArgument("otp: expected the digits of the SMS code");
  }
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Card card, LoadCard(user_id, card_id));
  auto pending = std::find_if(card.tokens.begin(), card.tokens.end(),
                              [](const CardToken& t) { return t.state == "inactive"; });
  if (card.state != "pending_verification" || pending == card.tokens.end()) {
    return FailedPrecondition("card_id: the card is not waiting for an OTP");
  }
  TS_ASSIGN_OR_RETURN(Device device, LoadDevice(user_id, pending->device_id));
  if (device.state != "active") {
    return FailedPrecondition("device_id: the card's device is " + device.state);
  }
  TS_ASSIGN_OR_RETURN(OtpResult answer, tsp_->VerifyOtp(pending->token_id, otp));
  VerifyCardResult result;
  result.outcome = answer.outcome;
  result.attempts_left = answer.attempts_left;
  result.message = answer.message;
  if (answer.outcome == OtpOutcome::kApproved) {
    if (!answer.token.has_value()) return Internal("tsp answer: token missing");
    result.credentials = answer.credentials;
    TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) -> Status {
      TS_RETURN_IF_ERROR(
          s.Execute("UPDATE wallet_cards SET state = 'active' WHERE card_id = ?", {card_id})
              .status());
      return InsertCardToken(card_id, *answer.token);
    }));
    TS_ASSIGN_OR_RETURN(result.card, LoadCard(user_id, card_id));
  } else if (answer.outcome == OtpOutcome::kLocked) {
    // The TSP deleted the pending token; a card that never became active goes with it.
    TS_RETURN_IF_ERROR(store_->RunInTransaction(
        [&](store::Store& s) { return DeleteCardRows(s, user_id, card_id); }));
  }
  return result;
}

Result<AddToDeviceResult> WalletService::AddCardToDevice(const std::string& user_id,
                                                         const std::string& card_id,
                                                         const std::string& device_id) {
  if (device_id.empty())
    return InvalidArgument("device_id: expected the device to add the card to");
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Card card, LoadCard(user_id, card_id));
  TS_ASSIGN_OR_RETURN(Device device, LoadDevice(user_id, device_id));
  if (device.state != "active")
    return FailedPrecondition("device_id: the device is " + device.state);
  for (const CardToken& t : card.tokens) {
    if (t.device_id == device_id && LiveToken(t)) {
      return FailedPrecondition("device_id: the card is on this device already");
    }
  }
  auto source = std::find_if(card.tokens.begin(), card.tokens.end(),
                             [](const CardToken& t) { return t.state == "active"; });
  if (source == card.tokens.end()) {
    return FailedPrecondition("card_id: the card has no active token to copy from");
  }
  TS_ASSIGN_OR_RETURN(ProvisioningResult answer,
                      tsp_->AddDevice(source->token_id, {.device_id = device.device_id,
                                                         .device_public_key = device.se_public_key,
                                                         .storage = device.storage}));
  if (answer.decision != ProvisioningDecision::kApproved || !answer.token.has_value()) {
    return FailedPrecondition(
        "card_id: the TSP did not approve the new device (" +
        (answer.decline_reason.empty() ? std::string("step_up") : answer.decline_reason) + ")");
  }
  TS_RETURN_IF_ERROR(InsertCardToken(card_id, *answer.token));
  AddToDeviceResult result;
  result.credentials = answer.credentials;
  TS_ASSIGN_OR_RETURN(result.card, LoadCard(user_id, card_id));
  return result;
}

Result<std::string> WalletService::ReplenishKeys(const std::string& user_id,
                                                const std::string& card_id,
                                                const std::string& device_id, int count) {
  if (count < 1 || count > kHceKeysPerReplenishMax) {
    return InvalidArgument("count: expected 1-" + std::to_string(kHceKeysPerReplenishMax));
  }
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Card card, LoadCard(user_id, card_id));
  TS_ASSIGN_OR_RETURN(Device device, LoadDevice(user_id, device_id));
  if (device.state != "active") return FailedPrecondition("device_id: the device is " + device.state);
  if (device.storage != "hce") {
    return FailedPrecondition("device_id: a secure-element device derives its own session keys");
  }
  for (const CardToken& t : card.tokens) {
    if (t.device_id != device_id || !LiveToken(t)) continue;
    if (t.state != "active") return FailedPrecondition("card_id: the token is " + t.state);
    return tsp_->ReplenishKeys(t.token_id, count);
  }
  return NotFound("device_id: the card has no token on this device");
}

Result<std::vector<Card>> WalletService::ListCards(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(std::string default_id, DefaultCardId(user_id));
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_->Query(std::string("SELECT ") + kCardColumns +
                        " FROM wallet_cards WHERE user_id = ? ORDER BY created_unix_ms, card_id",
                    {user_id}));
  std::vector<Card> out;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(Card c, CardFromRow(row, default_id));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Card> WalletService::GetCard(const std::string& user_id, const std::string& card_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadCard(user_id, card_id);
}

Result<Card> WalletService::SetDefaultCard(const std::string& user_id, const std::string& card_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_RETURN_IF_ERROR(LoadCard(user_id, card_id).status());
  TS_RETURN_IF_ERROR(store_
                         ->Execute("UPDATE wallet_users SET default_card_id = ? WHERE user_id = ?",
                                   {card_id, user_id})
                         .status());
  return LoadCard(user_id, card_id);
}

Result<DeviceActionResult> WalletService::DeleteCard(const std::string& user_id,
                                                     const std::string& card_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Card card, LoadCard(user_id, card_id));
  std::vector<std::pair<std::string, CardToken>> tokens;
  for (const CardToken& t : card.tokens) tokens.emplace_back(card_id, t);
  DeviceActionResult result;
  result.tokens = ApplyToTokens(tokens, "deleted", [this](const std::string& id) {
    return tsp_->Delete(id, "card removed from wallet");
  });
  for (const TokenActionReport& r : result.tokens) result.all_succeeded &= r.ok;
  if (!result.all_succeeded) return result;
  TS_RETURN_IF_ERROR(store_->RunInTransaction(
      [&](store::Store& s) { return DeleteCardRows(s, user_id, card_id); }));
  return result;
}

Result<std::vector<CardTransaction>> WalletService::CardTransactions(const std::string& user_id,
                                                                     const std::string& card_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Card card, LoadCard(user_id, card_id));
  std::vector<CardTransaction> out;
  for (const CardToken& t : card.tokens) {
    TS_ASSIGN_OR_RETURN(auto txs, tsp_->ListTransactions(t.token_id, kCardTransactionsMax));
    for (TokenTransaction& tx : txs) {
      out.push_back({.token_id = t.token_id, .device_id = t.device_id, .tx = std::move(tx)});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const CardTransaction& a, const CardTransaction& b) {
    return a.tx.time_unix_ms > b.tx.time_unix_ms;
  });
  if (out.size() > static_cast<std::size_t>(kCardTransactionsMax)) out.resize(kCardTransactionsMax);
  return out;
}

Result<int> WalletService::SyncTokenStates() {
  std::lock_guard<std::mutex> lock(mu_);
  return SyncTokenStatesLocked();
}

Result<int> WalletService::SyncTokenStatesLocked() {
  TS_ASSIGN_OR_RETURN(store::Rows cursor,
                      store_->Query("SELECT last_seq FROM wallet_tsp_cursor WHERE id = 1"));
  std::int64_t after = 0;
  if (!cursor.empty()) {
    TS_ASSIGN_OR_RETURN(after, cursor[0].GetInt64("last_seq"));
  }
  int updated = 0;
  for (int page = 0; page < kNotificationPagesPerSyncMax; ++page) {
    TS_ASSIGN_OR_RETURN(auto events, tsp_->ListNotifications(after, kNotificationsPageMax));
    if (events.empty()) break;
    const std::int64_t last = events.back().seq;
    int page_updated = 0;
    TS_RETURN_IF_ERROR(store_->RunInTransaction([&](store::Store& s) -> Status {
      page_updated = 0;  // the function may run again after a conflict
      for (const TokenNotification& n : events) {
        if (n.to != "inactive" && n.to != "active" && n.to != "suspended" && n.to != "deleted") {
          continue;  // update_pan and the like change no state the wallet shows
        }
        TS_ASSIGN_OR_RETURN(std::int64_t changed,
                            s.Execute("UPDATE wallet_card_tokens SET state = ?, updated_unix_ms = "
                                      "? WHERE token_id = ? AND "
                                      "state <> ?",
                                      {n.to, NowMs(), n.token_id, n.to}));
        page_updated += static_cast<int>(changed);
      }
      // The cursor moves in the same transaction as the states, so no event is applied twice
      // or skipped.
      return s
          .Execute(
              "INSERT INTO wallet_tsp_cursor (id, last_seq) VALUES (1, ?) ON CONFLICT "
              "(id) DO UPDATE SET last_seq = excluded.last_seq",
              {last})
          .status();
    }));
    updated += page_updated;
    after = last;
    if (events.size() < static_cast<std::size_t>(kNotificationsPageMax)) break;
  }
  return updated;
}

}  // namespace tapstack::wallet
