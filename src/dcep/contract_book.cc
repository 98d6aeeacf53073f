#include "dcep/contract_book.h"

#include <algorithm>
#include <array>
#include <limits>

#include "dcep/central_bank.h"
#include "dcep/ledger_ids.h"

namespace tapstack::dcep {

namespace {

using ledger::Id128;

constexpr std::string_view kActive = "active";
constexpr std::string_view kClosed = "closed";
constexpr std::string_view kEventPosted = "posted";
constexpr std::string_view kEventRefused = "refused";
constexpr std::string_view kEventFailed = "failed";
constexpr std::string_view kContractIdPrefix = "ct-";
// Stored terms were validated when they locked value; re-reading them must not refuse them for
// having expired since.
constexpr std::int64_t kNoExpiryCheck = std::numeric_limits<std::int64_t>::min();

constexpr std::string_view kContractColumns =
    "contract_id, terms_json, escrow_account, units_delivered, released_fen, refunded_fen, "
    "state, created_unix_ms, updated_unix_ms";

constexpr std::string_view kEventColumns =
    "event_id, seq, action, actor_wallet, merchant_id, units, amount_fen, status, error_code, "
    "reason, entry_id, created_unix_ms, request_digest";

std::string Fen(std::int64_t v) { return std::to_string(v) + " fen"; }

store::Value OptText(const std::string& s) {
  return s.empty() ? store::Value::Null() : store::Value(s);
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("idempotency_key: expected 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) + " bytes");
  }
  return Status::Ok();
}

// A contract row with the escrow account it moves value through.
struct StoredContract {
  Contract contract;
  Id128 escrow;
};

Result<StoredContract> ContractFrom(const store::Row& r, const std::string& operator_id) {
  StoredContract s;
  Contract& c = s.contract;
  c.operator_id = operator_id;
  TS_ASSIGN_OR_RETURN(c.contract_id, r.GetText(0));
  TS_ASSIGN_OR_RETURN(c.terms_json, r.GetText(1));
  Result<ContractTerms> terms = ParseContractTerms(c.terms_json, kNoExpiryCheck);
  if (!terms.ok()) {
    return Corruption("contract " + c.contract_id + ": stored terms: " + terms.status().message());
  }
  c.terms = *std::move(terms);
  TS_ASSIGN_OR_RETURN(const Bytes escrow, r.GetBlob(2));
  TS_ASSIGN_OR_RETURN(s.escrow, IdFromBytes(escrow));
  TS_ASSIGN_OR_RETURN(c.progress.units_delivered, r.GetInt64(3));
  TS_ASSIGN_OR_RETURN(c.progress.released_fen, r.GetInt64(4));
  TS_ASSIGN_OR_RETURN(c.progress.refunded_fen, r.GetInt64(5));
  TS_ASSIGN_OR_RETURN(c.state, r.GetText(6));
  c.progress.closed = c.state == kClosed;
  TS_ASSIGN_OR_RETURN(c.created_unix_ms, r.GetInt64(7));
  TS_ASSIGN_OR_RETURN(c.updated_unix_ms, r.GetInt64(8));
  c.locked_fen = LockedFen(c.terms, c.progress);
  return s;
}

Result<std::optional<StoredContract>> LoadContract(store::Store& store,
                                                   const std::string& operator_id,
                                                   std::string_view contract_id) {
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      store.Query("SELECT " + std::string(kContractColumns) +
                                      " FROM dcep_contracts WHERE contract_id = ?",
                                  {std::string(contract_id)}));
  if (rows.empty()) return std::optional<StoredContract>();
  TS_ASSIGN_OR_RETURN(StoredContract c, ContractFrom(rows[0], operator_id));
  return std::optional<StoredContract>(std::move(c));
}

struct StoredEvent {
  ContractEvent event;
  Id128 digest;
};

Result<StoredEvent> EventFrom(const store::Row& r) {
  StoredEvent s;
  ContractEvent& e = s.event;
  TS_ASSIGN_OR_RETURN(const Bytes id, r.GetBlob(0));
  TS_ASSIGN_OR_RETURN(const Id128 event_id, IdFromBytes(id));
  e.event_id = event_id.ToHex();
  TS_ASSIGN_OR_RETURN(e.seq, r.GetInt64(1));
  TS_ASSIGN_OR_RETURN(e.action, r.GetText(2));
  std::string* texts[] = {&e.actor_wallet, &e.merchant_id};
  for (std::size_t i = 0; i < 2; ++i) {
    TS_ASSIGN_OR_RETURN(const auto text, r.GetOptionalText(3 + i));
    *texts[i] = text.value_or("");
  }
  TS_ASSIGN_OR_RETURN(e.units, r.GetInt64(5));
  TS_ASSIGN_OR_RETURN(e.amount_fen, r.GetInt64(6));
  TS_ASSIGN_OR_RETURN(e.status, r.GetText(7));
  std::string* more[] = {&e.error_code, &e.reason};
  for (std::size_t i = 0; i < 2; ++i) {
    TS_ASSIGN_OR_RETURN(const auto text, r.GetOptionalText(8 + i));
    *more[i] = text.value_or("");
  }
  TS_ASSIGN_OR_RETURN(const auto entry, r.GetOptionalBlob(10));
  if (entry) {
    TS_ASSIGN_OR_RETURN(const Id128 entry_id, IdFromBytes(*entry));
    e.entry_id = entry_id.ToHex();
  }
  TS_ASSIGN_OR_RETURN(e.created_unix_ms, r.GetInt64(11));
  TS_ASSIGN_OR_RETURN(const Bytes digest, r.GetBlob(12));
  TS_ASSIGN_OR_RETURN(s.digest, IdFromBytes(digest));
  return s;
}

Result<std::optional<StoredEvent>> FindEvent(store::Store& store, Id128 event_id) {
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      store.Query("SELECT " + std::string(kEventColumns) +
                                      " FROM dcep_contract_events WHERE event_id = ?",
                                  {IdToBytes(event_id)}));
  if (rows.empty()) return std::optional<StoredEvent>();
  TS_ASSIGN_OR_RETURN(StoredEvent e, EventFrom(rows[0]));
  return std::optional<StoredEvent>(std::move(e));
}

// Appends an event (next seq of its contract). `moved`: the event's journal entry is event_id.
Status InsertEvent(store::Store& store, const std::string& contract_id, Id128 event_id,
                   Id128 digest, const ContractEvent& e, bool moved) {
  TS_ASSIGN_OR_RETURN(const store::Row next,
                      store.QueryRow("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM "
                                     "dcep_contract_events WHERE contract_id = ?",
                                     {contract_id}));
  TS_ASSIGN_OR_RETURN(const std::int64_t seq, next.GetInt64(0));
  const std::array<store::Value, 14> params = {
      IdToBytes(event_id), contract_id,        seq,
      e.action,            OptText(e.actor_wallet), OptText(e.merchant_id),
      e.units,             e.amount_fen,       IdToBytes(digest),
      e.status,            OptText(e.error_code),   OptText(e.reason),
      moved ? store::Value(IdToBytes(event_id)) : store::Value::Null(),
      e.created_unix_ms};
  return store
      .Execute("INSERT INTO dcep_contract_events (event_id, contract_id, seq, action, "
               "actor_wallet, merchant_id, units, amount_fen, request_digest, status, error_code, "
               "reason, entry_id, created_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
               "?)",
               params)
      .status();
}

// The contract's progress as its posted journal rows say, written to its row (the row is removed
// when its lock never posted). The single definition of progress: the normal path, a ledger
// refusal and Reconcile all use it.
Status RecomputeProgress(store::Store& store, const std::string& contract_id,
                         std::int64_t amount_fen, std::int64_t now) {
  TS_ASSIGN_OR_RETURN(
      const store::Rows sums,
      store.Query("SELECT e.action, CAST(SUM(e.units) AS BIGINT) AS units, "
                  "CAST(SUM(j.amount_fen) AS BIGINT) AS fen FROM dcep_contract_events e JOIN "
                  "dcep_entries j ON j.contract_id = e.contract_id AND j.entry_id = e.entry_id "
                  "WHERE e.contract_id = ? AND j.status = 'posted' GROUP BY e.action",
                  {contract_id}));
  std::int64_t locked = 0;
  ContractProgress p;
  for (const store::Row& r : sums) {
    TS_ASSIGN_OR_RETURN(const std::string action, r.GetText(0));
    TS_ASSIGN_OR_RETURN(const std::int64_t units, r.GetInt64(1));
    TS_ASSIGN_OR_RETURN(const std::int64_t fen, r.GetInt64(2));
    if (action == "create") {
      locked += fen;
    } else if (action == "deliver" || action == "confirm" || action == "spend") {
      p.released_fen += fen;
      p.units_delivered += units;
    } else {
      p.refunded_fen += fen;  // cancel, expire
    }
  }
  if (locked == 0) {
    return store.Execute("DELETE FROM dcep_contracts WHERE contract_id = ?", {contract_id})
        .status();
  }
  if (locked != amount_fen || p.released_fen + p.refunded_fen > amount_fen) {
    return Internal("contract " + contract_id + ": journal locks " + Fen(locked) + ", releases " +
                    Fen(p.released_fen) + ", refunds " + Fen(p.refunded_fen) + " of " +
                    Fen(amount_fen));
  }
  const bool closed = p.released_fen + p.refunded_fen == amount_fen;
  return store
      .Execute("UPDATE dcep_contracts SET units_delivered = ?, released_fen = ?, refunded_fen = ?, "
               "state = ?, updated_unix_ms = ? WHERE contract_id = ?",
               {p.units_delivered, p.released_fen, p.refunded_fen,
                std::string(closed ? kClosed : kActive), now, contract_id})
      .status();
}

std::string_view ActionName(int action) {
  static constexpr std::array<std::string_view, 5> kNames = {"deliver", "confirm", "cancel",
                                                             "spend", "expire"};
  return kNames[static_cast<std::size_t>(action)];
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<std::string> ContractOperatorId(std::string_view contract_id) {
  const Status bad = InvalidArgument("contract_id: expected \"ct-\", an operator id, \"-\" and " +
                                     std::to_string(kContractIdHexChars) + " lowercase hex digits");
  if (contract_id.substr(0, kContractIdPrefix.size()) != kContractIdPrefix) return bad;
  const std::size_t dash = contract_id.rfind('-');
  if (dash <= kContractIdPrefix.size() || contract_id.size() - dash - 1 != kContractIdHexChars ||
      !IsLowerHex(contract_id.substr(dash + 1))) {
    return bad;
  }
  const std::string_view op =
      contract_id.substr(kContractIdPrefix.size(), dash - kContractIdPrefix.size());
  if (!CheckOperatorId("contract_id", op).ok()) return bad;
  return std::string(op);
}

Result<ContractOutcome> ContractBook::Create(std::string_view terms_json,
                                             std::string_view idempotency_key) {
  TS_RETURN_IF_ERROR(CheckKey(idempotency_key));
  // Parsed without the clock first, so a retry after expiry still finds its first outcome.
  TS_ASSIGN_OR_RETURN(const ContractTerms terms, ParseContractTerms(terms_json, kNoExpiryCheck));
  const std::string canonical = ContractTermsJson(terms);
  TS_ASSIGN_OR_RETURN(const Id128 digest, RequestDigest("create|" + canonical));
  const std::string& op = host_.OperatorId();
  ContractOutcome outcome;
  const Status status = host_.Run([&]() -> Status {
    TS_ASSIGN_OR_RETURN(const Id128 derived,
                        host_.DeriveId("contract_id", terms.payer_wallet, idempotency_key));
    const std::string contract_id =
        std::string(kContractIdPrefix) + op + "-" + derived.ToHex().substr(0, kContractIdHexChars);
    TS_ASSIGN_OR_RETURN(const Id128 event_id, host_.DeriveId("contract_create", contract_id, ""));
    store::Store& store = host_.Store();
    TS_ASSIGN_OR_RETURN(const std::optional<StoredEvent> seen, FindEvent(store, event_id));
    if (seen) {
      if (seen->digest != digest) return AlreadyExists(std::string(kKeyReusedMessage));
      TS_ASSIGN_OR_RETURN(Entry entry, host_.LookupEntry(event_id));
      if (entry.status != kEventPosted) {
        return Status(ErrorCodeFromName(entry.error_code), entry.reason);
      }
      TS_ASSIGN_OR_RETURN(const auto c, LoadContract(store, op, contract_id));
      if (!c) return NotFound("contract_id: no contract " + contract_id + " at " + op);
      entry.replayed = true;
      outcome = {c->contract, entry, true};
      return Status::Ok();
    }
    const std::int64_t now = host_.NowUnixMillis();
    if (terms.expires_unix_ms <= now) return InvalidArgument("expires_unix_ms: already past");
    // Every party is kept by this operator (see the header).
    const auto wallet_here = [&](std::string_view field, const std::string& wallet) -> Status {
      if (host_.IsWallet(wallet)) return Status::Ok();
      return NotFound(std::string(field) + ": wallet " + wallet + " is not a wallet of " + op);
    };
    TS_RETURN_IF_ERROR(wallet_here("payer_wallet", terms.payer_wallet));
    switch (terms.kind) {
      case ContractTemplate::kPrepaidService: {
        Result<const MerchantInfo*> found = host_.Config().Merchant(terms.merchant_id);
        if (!found.ok()) return found.status().WithContext("merchant_id");
        const MerchantInfo* merchant = *found;
        if (merchant->operator_id != op) {
          return FailedPrecondition("merchant_id: merchant " + merchant->id +
                                    " keeps its wallet at " + merchant->operator_id +
                                    "; a contract of " + op + " pays only wallets of " + op);
        }
        break;
      }
      case ContractTemplate::kEscrow:
        TS_RETURN_IF_ERROR(wallet_here("payee_wallet", terms.payee_wallet));
        break;
      case ContractTemplate::kSubsidy:
        TS_RETURN_IF_ERROR(wallet_here("beneficiary_wallet", terms.beneficiary_wallet));
        break;
    }
    TS_ASSIGN_OR_RETURN(const Id128 escrow, host_.OpenEscrowAccount(contract_id));
    ContractEvent event;
    event.action = "create";
    event.actor_wallet = terms.payer_wallet;
    event.amount_fen = terms.amount_fen;
    event.created_unix_ms = now;
    const auto also = [&](store::Store& s, const Status& checked) -> Status {
      ContractEvent e = event;
      e.status = std::string(checked.ok() ? kEventPosted : kEventRefused);
      if (!checked.ok()) {
        e.error_code = std::string(ErrorCodeName(checked.code()));
        e.reason = checked.message();
      }
      TS_RETURN_IF_ERROR(InsertEvent(s, contract_id, event_id, digest, e, true));
      if (!checked.ok()) return Status::Ok();
      return s
          .Execute("INSERT INTO dcep_contracts (contract_id, template, payer_wallet, terms_json, "
                   "amount_fen, expires_unix_ms, escrow_account, units_delivered, released_fen, "
                   "refunded_fen, state, created_unix_ms, updated_unix_ms) VALUES (?, ?, ?, ?, ?, "
                   "?, ?, 0, 0, 0, ?, ?, ?)",
                   {contract_id, std::string(ContractTemplateName(terms.kind)),
                    terms.payer_wallet, canonical, terms.amount_fen, terms.expires_unix_ms,
                    IdToBytes(escrow), std::string(kActive), now, now})
          .status();
    };
    const auto after_failure = [&](store::Store& s) -> Status {
      TS_RETURN_IF_ERROR(s.Execute("UPDATE dcep_contract_events SET status = ? WHERE event_id = ?",
                                   {std::string(kEventFailed), IdToBytes(event_id)})
                             .status());
      return RecomputeProgress(s, contract_id, terms.amount_fen, now);
    };
    ContractMovement movement;
    movement.kind = ContractMovement::Kind::kLock;
    movement.contract_id = contract_id;
    movement.entry_id = event_id;
    movement.digest = digest;
    movement.escrow_account = escrow;
    movement.wallet_id = terms.payer_wallet;
    movement.amount_fen = terms.amount_fen;
    TS_ASSIGN_OR_RETURN(const Entry entry, host_.Move(movement, also, after_failure));
    TS_ASSIGN_OR_RETURN(const auto c, LoadContract(store, op, contract_id));
    if (!c) return Internal("contract " + contract_id + ": row missing after its lock");
    outcome = {c->contract, entry, false};
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return outcome;
}

Result<Contract> ContractBook::Get(std::string_view contract_id) {
  TS_ASSIGN_OR_RETURN(const std::string op, ContractOperatorId(contract_id));
  if (op != host_.OperatorId()) {
    return NotFound("contract_id: " + std::string(contract_id) + " is a contract of " + op);
  }
  Contract out;
  TS_RETURN_IF_ERROR(host_.Run([&]() -> Status {
    store::Store& store = host_.Store();
    TS_ASSIGN_OR_RETURN(const auto c, LoadContract(store, op, contract_id));
    if (!c) return NotFound("contract_id: no contract " + std::string(contract_id) + " at " + op);
    out = c->contract;
    TS_ASSIGN_OR_RETURN(const store::Rows rows,
                        store.Query("SELECT " + std::string(kEventColumns) +
                                        " FROM dcep_contract_events WHERE contract_id = ? ORDER "
                                        "BY seq DESC LIMIT ?",
                                    {std::string(contract_id),
                                     static_cast<std::int64_t>(kContractEventsMax)}));
    for (std::size_t i = rows.size(); i-- > 0;) {
      TS_ASSIGN_OR_RETURN(StoredEvent e, EventFrom(rows[i]));
      out.events.push_back(std::move(e.event));
    }
    return Status::Ok();
  }));
  return out;
}

Result<ContractOutcome> ContractBook::Deliver(std::string_view contract_id,
                                              std::string_view actor_wallet, std::int64_t units,
                                              std::string_view key) {
  if (units < 1 || units > kContractUnitsMax) {
    return InvalidArgument("units: expected an integer from 1 to " +
                           std::to_string(kContractUnitsMax));
  }
  return Act({Action::kDeliver, std::string(contract_id), std::string(actor_wallet), "", units, 0,
              std::string(key)});
}

Result<ContractOutcome> ContractBook::Confirm(std::string_view contract_id,
                                              std::string_view actor_wallet,
                                              std::string_view key) {
  return Act({Action::kConfirm, std::string(contract_id), std::string(actor_wallet), "", 0, 0,
              std::string(key)});
}

Result<ContractOutcome> ContractBook::Cancel(std::string_view contract_id,
                                             std::string_view actor_wallet,
                                             std::string_view key) {
  return Act({Action::kCancel, std::string(contract_id), std::string(actor_wallet), "", 0, 0,
              std::string(key)});
}

Result<ContractOutcome> ContractBook::SpendSubsidy(std::string_view contract_id,
                                                   std::string_view actor_wallet,
                                                   std::string_view merchant_id,
                                                   std::int64_t amount_fen, std::string_view key) {
  if (amount_fen < 1 || amount_fen > kContractAmountFenMax) {
    return InvalidArgument("amount_fen: expected an integer from 1 to " +
                           std::to_string(kContractAmountFenMax));
  }
  if (merchant_id.empty() || merchant_id.size() > kMerchantIdBytesMax) {
    return InvalidArgument("merchant_id: expected 1 to " + std::to_string(kMerchantIdBytesMax) +
                           " bytes");
  }
  return Act({Action::kSpend, std::string(contract_id), std::string(actor_wallet),
              std::string(merchant_id), 0, amount_fen, std::string(key)});
}

Result<ContractOutcome> ContractBook::Act(Request request) {
  TS_ASSIGN_OR_RETURN(const std::string op, ContractOperatorId(request.contract_id));
  if (op != host_.OperatorId()) {
    return NotFound("contract_id: " + request.contract_id + " is a contract of " + op);
  }
  TS_RETURN_IF_ERROR(CheckWalletId("actor_wallet", request.actor_wallet));
  TS_RETURN_IF_ERROR(CheckKey(request.key));
  ContractOutcome outcome;
  TS_RETURN_IF_ERROR(host_.Run([&]() -> Status {
    TS_ASSIGN_OR_RETURN(outcome, ActLocked(request));
    return Status::Ok();
  }));
  return outcome;
}

Result<ContractOutcome> ContractBook::ActLocked(const Request& request) {
  const std::string& op = host_.OperatorId();
  store::Store& store = host_.Store();
  const std::string& contract_id = request.contract_id;
  TS_ASSIGN_OR_RETURN(const auto loaded, LoadContract(store, op, contract_id));
  if (!loaded) return NotFound("contract_id: no contract " + contract_id + " at " + op);
  const Contract& c = loaded->contract;
  const ContractTerms& t = c.terms;
  const std::string action(ActionName(static_cast<int>(request.action)));
  TS_ASSIGN_OR_RETURN(const Id128 event_id,
                      host_.DeriveId("contract_" + action, contract_id, request.key));
  TS_ASSIGN_OR_RETURN(const Id128 digest,
                      RequestDigest(action + "|" + contract_id + "|" + request.actor_wallet + "|" +
                                    request.merchant_id + "|" + std::to_string(request.units) +
                                    "|" + std::to_string(request.amount_fen)));
  TS_ASSIGN_OR_RETURN(const std::optional<StoredEvent> seen, FindEvent(store, event_id));
  if (seen) {
    if (seen->digest != digest) return AlreadyExists(std::string(kKeyReusedMessage));
    if (seen->event.entry_id.empty()) {
      return Status(ErrorCodeFromName(seen->event.error_code), seen->event.reason);
    }
    TS_ASSIGN_OR_RETURN(Entry entry, host_.LookupEntry(event_id));
    if (entry.status != kEventPosted) {
      return Status(ErrorCodeFromName(entry.error_code), entry.reason);
    }
    entry.replayed = true;
    return ContractOutcome{c, entry, true};
  }

  const std::int64_t now = host_.NowUnixMillis();
  ContractMovement movement;
  movement.contract_id = contract_id;
  movement.entry_id = event_id;
  movement.digest = digest;
  movement.escrow_account = loaded->escrow;
  ContractEvent event;
  event.action = action;
  event.actor_wallet = request.actor_wallet;
  event.created_unix_ms = now;
  // The rules; a refusal here is recorded as the key's first outcome.
  const auto rules = [&]() -> Status {
    if (c.state == kClosed) {
      return FailedPrecondition("contract: closed; nothing is locked any more");
    }
    if (request.action != Action::kExpire && now >= t.expires_unix_ms) {
      return FailedPrecondition("contract: expired at " + std::to_string(t.expires_unix_ms) +
                                " (unix ms); what is locked returns to the payer");
    }
    const std::string merchant_wallet =
        t.kind == ContractTemplate::kPrepaidService ? MerchantWalletId(op, t.merchant_id) : "";
    switch (request.action) {
      case Action::kDeliver: {
        if (t.kind != ContractTemplate::kPrepaidService) {
          return FailedPrecondition("deliver: only a prepaid_service contract delivers units");
        }
        if (request.actor_wallet != merchant_wallet) {
          return FailedPrecondition(
              "actor_wallet: only the merchant's wallet may deliver on a prepaid_service "
              "contract");
        }
        TS_ASSIGN_OR_RETURN(movement.amount_fen,
                            PrepaidReleaseFen(t, c.progress.units_delivered, request.units));
        movement.kind = ContractMovement::Kind::kRelease;
        movement.wallet_id = merchant_wallet;
        movement.merchant_id = t.merchant_id;
        event.units = request.units;
        event.merchant_id = t.merchant_id;
        return Status::Ok();
      }
      case Action::kConfirm:
        if (t.kind != ContractTemplate::kEscrow) {
          return FailedPrecondition("confirm: only an escrow contract is confirmed");
        }
        if (request.actor_wallet != t.payer_wallet) {
          return FailedPrecondition("actor_wallet: only the payer may confirm an escrow contract");
        }
        movement.kind = ContractMovement::Kind::kRelease;
        movement.wallet_id = t.payee_wallet;
        movement.amount_fen = c.locked_fen;
        return Status::Ok();
      case Action::kCancel:
        if (t.kind == ContractTemplate::kSubsidy) {
          return FailedPrecondition(
              "cancel: a subsidy is not cancelled; its rest returns to the funder at expiry");
        }
        if (t.kind == ContractTemplate::kPrepaidService && request.actor_wallet != t.payer_wallet) {
          return FailedPrecondition(
              "actor_wallet: only the payer may cancel a prepaid_service contract");
        }
        if (t.kind == ContractTemplate::kEscrow && request.actor_wallet != t.payee_wallet) {
          return FailedPrecondition("actor_wallet: only the payee may cancel an escrow contract");
        }
        movement.kind = ContractMovement::Kind::kRefund;
        movement.wallet_id = t.payer_wallet;
        movement.amount_fen = c.locked_fen;
        return Status::Ok();
      case Action::kSpend: {
        if (t.kind != ContractTemplate::kSubsidy) {
          return FailedPrecondition("spend: only a subsidy is spent");
        }
        if (request.actor_wallet != t.beneficiary_wallet) {
          return FailedPrecondition("actor_wallet: only the beneficiary may spend a subsidy");
        }
        Result<const MerchantInfo*> found = host_.Config().Merchant(request.merchant_id);
        if (!found.ok()) return found.status().WithContext("merchant_id");
        const MerchantInfo* merchant = *found;
        if (merchant->operator_id != op) {
          return FailedPrecondition("merchant_id: merchant " + merchant->id +
                                    " keeps its wallet at " + merchant->operator_id +
                                    "; a contract of " + op + " pays only wallets of " + op);
        }
        TS_RETURN_IF_ERROR(CheckSubsidyMcc(t, merchant->mcc));
        if (request.amount_fen > c.locked_fen) {
          return FailedPrecondition("amount_fen: " + Fen(c.locked_fen) + " left in the subsidy, " +
                                    Fen(request.amount_fen) + " requested");
        }
        movement.kind = ContractMovement::Kind::kRelease;
        movement.wallet_id = MerchantWalletId(op, merchant->id);
        movement.merchant_id = merchant->id;
        movement.amount_fen = request.amount_fen;
        event.merchant_id = merchant->id;
        return Status::Ok();
      }
      case Action::kExpire:
        if (now < t.expires_unix_ms) return Internal("expire: contract not yet due");
        event.actor_wallet.clear();
        movement.kind = ContractMovement::Kind::kRefund;
        movement.wallet_id = t.payer_wallet;
        movement.amount_fen = c.locked_fen;
        return Status::Ok();
    }
    return Internal("unknown contract action");
  };
  const Status allowed = rules();
  if (!allowed.ok()) {
    if (allowed.code() == ErrorCode::kInternal) return allowed;
    event.status = std::string(kEventRefused);
    event.error_code = std::string(ErrorCodeName(allowed.code()));
    event.reason = allowed.message();
    TS_RETURN_IF_ERROR(InsertEvent(store, contract_id, event_id, digest, event, false));
    return allowed;
  }
  event.amount_fen = movement.amount_fen;
  const auto also = [&](store::Store& s, const Status& checked) -> Status {
    ContractEvent e = event;
    e.status = std::string(checked.ok() ? kEventPosted : kEventRefused);
    if (!checked.ok()) {
      e.error_code = std::string(ErrorCodeName(checked.code()));
      e.reason = checked.message();
    }
    TS_RETURN_IF_ERROR(InsertEvent(s, contract_id, event_id, digest, e, true));
    if (!checked.ok()) return Status::Ok();
    return RecomputeProgress(s, contract_id, t.amount_fen, now);
  };
  const auto after_failure = [&](store::Store& s) -> Status {
    TS_RETURN_IF_ERROR(s.Execute("UPDATE dcep_contract_events SET status = ? WHERE event_id = ?",
                                 {std::string(kEventFailed), IdToBytes(event_id)})
                           .status());
    return RecomputeProgress(s, contract_id, t.amount_fen, now);
  };
  TS_ASSIGN_OR_RETURN(const Entry entry, host_.Move(movement, also, after_failure));
  TS_ASSIGN_OR_RETURN(const auto after, LoadContract(store, op, contract_id));
  if (!after) return Internal("contract " + contract_id + ": row missing after " + action);
  return ContractOutcome{after->contract, entry, false};
}

Result<std::int64_t> ContractBook::ExpireContracts() {
  std::int64_t refunded = 0;
  for (;;) {
    std::size_t due = 0;
    std::int64_t fresh = 0;
    TS_RETURN_IF_ERROR(host_.Run([&]() -> Status {
      TS_ASSIGN_OR_RETURN(
          const store::Rows rows,
          host_.Store().Query("SELECT contract_id FROM dcep_contracts WHERE state = 'active' AND "
                              "expires_unix_ms <= ? ORDER BY expires_unix_ms LIMIT ?",
                              {host_.NowUnixMillis(), static_cast<std::int64_t>(kExpireBatchMax)}));
      due = rows.size();
      for (const store::Row& r : rows) {
        Request request;
        request.action = Action::kExpire;
        TS_ASSIGN_OR_RETURN(request.contract_id, r.GetText(0));
        TS_ASSIGN_OR_RETURN(const ContractOutcome outcome, ActLocked(request));
        if (!outcome.replayed) ++fresh;
      }
      return Status::Ok();
    }));
    refunded += fresh;
    // A full batch of new refunds may have more behind it; a replay-only batch would repeat.
    if (due < kExpireBatchMax || fresh == 0) break;
  }
  return refunded;
}

Result<std::int64_t> ContractBook::Reconcile() {
  std::int64_t repaired = 0;
  TS_RETURN_IF_ERROR(host_.Run([&]() -> Status {
    store::Store& store = host_.Store();
    // Events whose journal row the ledger refused (at recovery) while the event says otherwise.
    TS_ASSIGN_OR_RETURN(
        const store::Rows stale,
        store.Query("SELECT DISTINCT e.contract_id FROM dcep_contract_events e JOIN dcep_entries "
                    "j ON j.contract_id = e.contract_id AND j.entry_id = e.entry_id WHERE "
                    "j.contract_id IS NOT NULL AND j.status = 'failed' AND e.status <> 'failed'"));
    for (const store::Row& r : stale) {
      TS_ASSIGN_OR_RETURN(const std::string contract_id, r.GetText(0));
      TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& s) -> Status {
        TS_RETURN_IF_ERROR(
            s.Execute("UPDATE dcep_contract_events SET status = 'failed' WHERE contract_id = ? "
                      "AND entry_id IN (SELECT entry_id FROM dcep_entries WHERE contract_id = ? "
                      "AND status = 'failed')",
                      {contract_id, contract_id})
                .status());
        TS_ASSIGN_OR_RETURN(const auto rows,
                            s.Query("SELECT amount_fen FROM dcep_contracts WHERE contract_id = ?",
                                    {contract_id}));
        if (rows.empty()) return Status::Ok();
        TS_ASSIGN_OR_RETURN(const std::int64_t amount, rows[0].GetInt64(0));
        return RecomputeProgress(s, contract_id, amount, host_.NowUnixMillis());
      }));
      ++repaired;
    }
    return Status::Ok();
  }));
  return repaired;
}

Result<std::int64_t> ContractBook::AuditEscrowsLocked() {
  const std::string& op = host_.OperatorId();
  TS_ASSIGN_OR_RETURN(const store::Rows rows,
                      host_.Store().Query("SELECT " + std::string(kContractColumns) +
                                          " FROM dcep_contracts WHERE state = 'active'"));
  std::int64_t sum = 0;
  for (const store::Row& r : rows) {
    TS_ASSIGN_OR_RETURN(const StoredContract s, ContractFrom(r, op));
    TS_ASSIGN_OR_RETURN(const std::int64_t balance, host_.EscrowBalance(s.escrow));
    if (balance != s.contract.locked_fen) {
      return Internal("operator " + op + " audit: contract " + s.contract.contract_id +
                      " escrow holds " + Fen(balance) + " but its terms and progress lock " +
                      Fen(s.contract.locked_fen));
    }
    sum += balance;
  }
  return sum;
}

}  // namespace tapstack::dcep
