#include "tsp/tsp_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tapstack::tsp {

TspService::~TspService() = default;

namespace {

// The ATC state recorded in both stores, as one: every ATC either saw counts as seen. Of two
// states the one with the higher ATC keeps its window; the other's highest and window bits that
// fall inside that window are added to it (older ones are refused by the window anyway).
AtcState MergeAtcStates(const AtcState& a, const AtcState& b) {
  const AtcState& hi = a.highest >= b.highest ? a : b;
  const AtcState& lo = a.highest >= b.highest ? b : a;
  AtcState merged = hi;
  auto mark = [&merged](std::uint32_t atc) {
    if (atc == 0 || atc >= merged.highest) return;
    const std::uint32_t behind = merged.highest - atc;
    if (behind <= kAtcWindow) merged.window |= std::uint64_t{1} << (behind - 1);
  };
  mark(lo.highest);
  for (std::uint32_t i = 0; i < kAtcWindow && i + 1 < lo.highest; ++i) {
    if ((lo.window >> i) & 1U) mark(lo.highest - 1 - i);
  }
  return merged;
}

Result<AtcState> AtcRowState(const store::Row& row) {
  TS_ASSIGN_OR_RETURN(const std::int64_t highest, row.GetInt64("highest_atc"));
  TS_ASSIGN_OR_RETURN(const std::int64_t window, row.GetInt64("seen_window"));
  if (highest < 1 || highest > 0xFFFF || window < 0) {
    return Corruption("tsp_token_atc row holds an impossible ATC state");
  }
  return AtcState{static_cast<std::uint32_t>(highest), static_cast<std::uint64_t>(window)};
}

}  // namespace

Status TspService::ImportAtcStore(store::Store& from, store::Store& to) {
  // Rows moved per transaction: keeps each page well under StoreOptions::query_rows_max.
  constexpr std::int64_t kImportPageRows = 10'000;
  TS_RETURN_IF_ERROR(store::ApplyMigrations(from, AtcMigrations()));
  for (;;) {
    TS_ASSIGN_OR_RETURN(
        store::Rows rows,
        from.Query("SELECT token_id, highest_atc, seen_window, uses, updated_unix_ms FROM "
                   "tsp_token_atc ORDER BY token_id LIMIT ?",
                   {kImportPageRows}));
    if (rows.empty()) return Status::Ok();
    TS_ASSIGN_OR_RETURN(const std::string last_id, rows[rows.size() - 1].GetText("token_id"));
    // First into the main store (merged, committed), then out of the old one: a crash between
    // the two leaves the rows in both, and the next Open merges them again to the same state.
    TS_RETURN_IF_ERROR(to.RunInTransaction([&](store::Store& tx) -> Status {
      for (const store::Row& row : rows) {
        TS_ASSIGN_OR_RETURN(const std::string token_id, row.GetText("token_id"));
        TS_ASSIGN_OR_RETURN(AtcState state, AtcRowState(row));
        TS_ASSIGN_OR_RETURN(const std::int64_t uses, row.GetInt64("uses"));
        TS_ASSIGN_OR_RETURN(const std::int64_t updated, row.GetInt64("updated_unix_ms"));
        std::int64_t uses_now = 0;
        Result<store::Row> current = tx.QueryRow(
            "SELECT highest_atc, seen_window, uses FROM tsp_token_atc WHERE token_id = ?",
            {token_id});
        if (current.ok()) {
          TS_ASSIGN_OR_RETURN(const AtcState now, AtcRowState(*current));
          TS_ASSIGN_OR_RETURN(uses_now, current->GetInt64("uses"));
          state = MergeAtcStates(state, now);
        } else if (current.status().code() != ErrorCode::kNotFound) {
          return current.status();
        }
        TS_RETURN_IF_ERROR(
            tx.Execute("INSERT INTO tsp_token_atc (token_id, highest_atc, seen_window, uses, "
                       "updated_unix_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id) DO "
                       "UPDATE SET highest_atc = excluded.highest_atc, seen_window = "
                       "excluded.seen_window, uses = excluded.uses, updated_unix_ms = "
                       "excluded.updated_unix_ms",
                       {token_id, static_cast<std::int64_t>(state.highest),
                        static_cast<std::int64_t>(state.window), std::max(uses, uses_now),
                        updated})
                .status());
      }
      return Status::Ok();
    }));
    TS_RETURN_IF_ERROR(from.RunInTransaction([&](store::Store& tx) -> Status {
      return tx.Execute("DELETE FROM tsp_token_atc WHERE token_id <= ?", {last_id}).status();
    }));
  }
}

Result<std::unique_ptr<TspService>> TspService::Open(TspServiceOptions options) {
  if (options.store == nullptr) return InvalidArgument("store: required");
  if (options.clock == nullptr) return InvalidArgument("clock: required");
  if (options.random == nullptr) return InvalidArgument("random: required");
  if (options.idv_link == nullptr) return InvalidArgument("idv_link: required");
  if (options.token_ranges.empty()) return InvalidArgument("token_ranges: required");

  // Nobody else can reach the service before Open returns, so it is built without its mutex.
  std::unique_ptr<TspService> s(new TspService());
  TspServiceOptions& o = s->options_;
  o = std::move(options);
  store::Store& store = *o.store;

  TokenVaultOptions vault_options;
  vault_options.clock = o.clock;
  vault_options.random = o.random;
  vault_options.token_numbers = o.token_numbers;
  vault_options.par = o.par;
  vault_options.token_validity_months = o.token_validity_months;
  TS_ASSIGN_OR_RETURN(
      s->vault_,
      TokenVault::Open(store,
                       TokenVaultKeys{{o.vault_keys.kek.id, o.vault_keys.kek.key.Clone()},
                                      o.vault_keys.fingerprint_key.Clone()},
                       vault_options));
  TS_ASSIGN_OR_RETURN(s->notifications_, TokenNotifications::Open(store, o.listener));
  s->lifecycle_ = std::make_unique<TokenLifecycle>(*s->vault_, *o.clock, *s->notifications_);

  auto clone_ranges = [&o] {
    std::vector<TokenRangeKeys> ranges;
    for (const TokenRangeKeys& r : o.token_ranges) {
      ranges.push_back({r.low, r.high, r.profile_name, r.issuer_master_key.Clone()});
    }
    return ranges;
  };
  TokenAuthorizationOptions auth;
  auth.ranges = clone_ranges();
  auth.actor = o.authorization_actor;
  auth.clock = o.clock;
  TS_ASSIGN_OR_RETURN(s->authorization_, TokenAuthorization::Open(*s->vault_, std::move(auth)));
  if (o.atc_store != nullptr && o.atc_store != &store) {
    TS_RETURN_IF_ERROR(ImportAtcStore(*o.atc_store, store).WithContext("legacy tsp_atc store"));
  }
  TS_ASSIGN_OR_RETURN(s->keys_, TokenKeys::Open(store, *s->vault_, *o.clock, clone_ranges()));
  TS_ASSIGN_OR_RETURN(s->otp_,
                      OtpChallenges::Open(store, *o.clock, *o.random, o.otp_key.Clone()));
  TS_ASSIGN_OR_RETURN(s->stans_, IdvStanCounter::Open(store, *o.clock));
  o.idv.clock = o.clock;
  TS_ASSIGN_OR_RETURN(s->idv_, IdvClient::Create(*o.idv_link, o.idv));
  TS_ASSIGN_OR_RETURN(s->history_, TokenHistory::Open(store, *s->vault_));
  TS_ASSIGN_OR_RETURN(TokenRequestors requestors, TokenRequestors::Create(o.requestors));
  s->requestors_ = std::move(requestors);
  for (TokenRequestorConfig& r : o.requestors) SecureWipe(r.api_key.data(), r.api_key.size());
  o.requestors.clear();

  if (o.sms_gateway != nullptr) {
    s->sms_ = o.sms_gateway;
  } else if (o.sms == SmsGatewayKind::kWebhook) {
    TS_ASSIGN_OR_RETURN(s->owned_sms_, WebhookSmsGateway::Create(o.sms_webhook_url));
    s->sms_ = s->owned_sms_.get();
  } else {
    // The outbox locks the service mutex around its own store use.
    Result<std::unique_ptr<OutboxSmsGateway>> outbox =
        OutboxSmsGateway::Open(store, *o.clock, s->mu_);
    if (!outbox.ok()) return outbox.status();
    s->outbox_ = outbox->get();
    s->owned_sms_ = std::move(*outbox);
    s->sms_ = s->owned_sms_.get();
  }

  TokenVault* vault = s->vault_.get();
  s->commits_ = std::make_unique<store::GroupCommitter>(
      store, s->mu_,
      [vault](store::Store&) -> Status { return vault->audit_log().LockChainInTransaction(); });
  s->provisioning_ = std::make_unique<Provisioning>(ProvisioningDeps{
      .vault = s->vault_.get(),
      .lifecycle = s->lifecycle_.get(),
      .otp = s->otp_.get(),
      .keys = s->keys_.get(),
      .idv = s->idv_.get(),
      .stans = s->stans_.get(),
      .sms = s->sms_,
      .clock = o.clock,
      .store_mutex = &s->mu_,
      .commits = s->commits_.get(),
      .notifications = s->notifications_.get(),
      .outbox = s->outbox_,  // set only when the outbox is the gateway
  });
  s->history_writer_ = std::make_unique<HistoryWriter>(store, *s->history_, s->mu_);
  return s;
}

std::optional<TokenRequestor> TspService::Authenticate(std::string_view api_key) const {
  return requestors_->Authenticate(api_key);
}

Result<ProvisionOutcome> TspService::Provision(ProvisionRequest request) {
  return provisioning_->Provision(std::move(request));
}

Result<OtpVerification> TspService::VerifyOtp(std::string_view requestor_id,
                                              std::string_view token_id, std::string_view otp) {
  return provisioning_->VerifyOtp(requestor_id, token_id, otp);
}

Result<ProvisionOutcome> TspService::ProvisionToAnotherDevice(std::string_view requestor_id,
                                                              std::string_view source_token_id,
                                                              std::string_view device_id,
                                                              ByteView device_public_key,
                                                              KeyStorage storage) {
  return provisioning_->ProvisionToAnotherDevice(requestor_id, source_token_id, device_id,
                                                 device_public_key, storage);
}

Result<TokenView> TspService::View(TokenRecord record) {
  TokenView view;
  Result<KeyStorage> storage = keys_->StorageOf(record.token_id);
  if (storage.ok()) {
    view.storage = *storage;
  } else if (storage.status().code() != ErrorCode::kNotFound) {
    return storage.status();
  }
  view.record = std::move(record);
  return view;
}

Result<TokenRecord> TspService::OwnedLocked(std::string_view requestor_id,
                                            std::string_view token_id) {
  Result<TokenRecord> record = vault_->Get(token_id);
  if (!record.ok() && record.status().code() != ErrorCode::kNotFound) return record.status();
  if (!record.ok() || record->requestor_id != requestor_id) {
    return NotFound("token " + std::string(token_id) + " not found");
  }
  return record;
}

Result<TokenView> TspService::Suspend(std::string_view requestor_id, std::string_view token_id,
                                      std::string_view reason) {
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(OwnedLocked(requestor_id, token_id).status());
  TS_ASSIGN_OR_RETURN(TokenRecord r,
                      lifecycle_->Suspend(token_id, {InitiatorKind::kWallet, std::string(requestor_id)},
                                          reason));
  return View(std::move(r));
}

Result<TokenView> TspService::Resume(std::string_view requestor_id, std::string_view token_id,
                                     std::string_view reason) {
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(OwnedLocked(requestor_id, token_id).status());
  TS_ASSIGN_OR_RETURN(TokenRecord r,
                      lifecycle_->Resume(token_id, {InitiatorKind::kWallet, std::string(requestor_id)},
                                         reason));
  return View(std::move(r));
}

Result<TokenView> TspService::Delete(std::string_view requestor_id, std::string_view token_id,
                                     std::string_view reason) {
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(OwnedLocked(requestor_id, token_id).status());
  TS_ASSIGN_OR_RETURN(TokenRecord r,
                      lifecycle_->Delete(token_id, {InitiatorKind::kWallet, std::string(requestor_id)},
                                         reason));
  return View(std::move(r));
}

Result<TokenView> TspService::GetToken(std::string_view requestor_id, std::string_view token_id) {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(TokenRecord r, OwnedLocked(requestor_id, token_id));
  return View(std::move(r));
}

Result<std::vector<TokenHistoryEntry>> TspService::Transactions(std::string_view requestor_id,
                                                                std::string_view token_id,
                                                                std::size_t limit) {
  // The wallet sees the uses the switch had answered before it asked (read your writes).
  history_writer_->Flush();
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(OwnedLocked(requestor_id, token_id).status());
  return history_->List(token_id, limit);
}

Result<Bytes> TspService::ReplenishKeys(std::string_view requestor_id, std::string_view token_id,
                                        std::size_t count) {
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(OwnedLocked(requestor_id, token_id).status());
  return keys_->ReplenishBatch(token_id, count);
}

Result<std::vector<TokenNotification>> TspService::Notifications(std::string_view requestor_id,
                                                                 std::int64_t after,
                                                                 std::size_t limit) {
  std::lock_guard lock(mu_);
  return notifications_->List(requestor_id, after, limit);
}

Result<std::vector<SmsOutboxMessage>> TspService::SmsOutbox(std::string_view phone,
                                                            std::int64_t after) {
  if (outbox_ == nullptr) return FailedPrecondition("the SMS gateway is not the outbox");
  return outbox_->List(phone, after);  // locks mu_ itself
}

Result<TokenAuthorizationResult> TspService::Authorize(const TokenUse& use) {
  // The cryptogram (DE55 parsing, ARQC, ARPC) needs no store: checked on the caller's thread,
  // in parallel with other callers, before queueing for the store.
  const CheckedCryptogram checked = authorization_->CheckCryptogram(use);
  Result<TokenAuthorizationResult> decision = Internal("token use not decided");
  // The body may run more than once (store::GroupCommitter re-runs a failed batch's bodies alone);
  // DecideInTransaction resets `decision` each time. The lock on the audit chain is the
  // committer's first statement.
  TS_RETURN_IF_ERROR(commits_->Run([&](store::Store&) -> Status {
    return authorization_->DecideInTransaction(use, checked, decision);
  }));
  // Only now, the transaction holding the ATC and the audit entry committed, may the PAN leave.
  return decision;
}

Result<DetokenizedPan> TspService::ResolveFollowUp(std::string_view token_number,
                                                   std::string_view purpose) {
  std::lock_guard lock(mu_);
  return authorization_->ResolveFollowUp(token_number, purpose);
}

Result<bool> TspService::AtcSeen(std::string_view token_id, std::uint32_t atc) {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(const AtcState state, authorization_->AtcStateOf(token_id));
  if (atc == 0 || atc > state.highest) return false;
  if (atc == state.highest) return true;
  const std::uint32_t below = state.highest - 1 - atc;  // bit index (token_authorization.h)
  return below >= kAtcWindow || ((state.window >> below) & 1U) != 0;
}

void TspService::RecordUse(const TokenUseRecord& use) {
  (void)history_writer_->Enqueue(use);  // warns (token-free) itself when it drops the use
}

void TspService::FlushHistory() { history_writer_->Flush(); }

HistoryWriterStats TspService::history_stats() const { return history_writer_->stats(); }

store::GroupCommitStats TspService::commit_stats() const { return commits_->stats(); }

Result<TokenRecord> TspService::IssuerChange(std::string_view token_id, LifecycleAction action,
                                             std::string_view issuer_id, std::string_view reason) {
  std::lock_guard lock(mu_);
  const Initiator issuer{InitiatorKind::kIssuer, std::string(issuer_id)};
  switch (action) {
    case LifecycleAction::kActivate: return lifecycle_->Activate(token_id, issuer, reason);
    case LifecycleAction::kSuspend: return lifecycle_->Suspend(token_id, issuer, reason);
    case LifecycleAction::kResume: return lifecycle_->Resume(token_id, issuer, reason);
    case LifecycleAction::kDelete: return lifecycle_->Delete(token_id, issuer, reason);
    case LifecycleAction::kUpdatePan: break;
  }
  return InvalidArgument("action: update_pan needs a PAN (use TokenLifecycle::UpdatePan)");
}

}  // namespace tapstack::tsp
