#include "tsp/token_authorization.h"

#include <algorithm>
#include <array>
#include <optional>

#include "core/hex.h"
#include "emv/cryptogram_profile.h"
#include "emv/tag_values.h"
#include "emv/tlv.h"
#include "iso8583/pos_entry_mode.h"
#include "iso8583/processing_code.h"
#include "tsp/limits.h"
#include "tsp/schema.h"
#include "tsp/store_transaction.h"

namespace tapstack::tsp {

namespace {

constexpr std::uint32_t kAtcMax = 0xFFFF;  // 9F36 is 2 bytes (Book 3 Annex A)
constexpr std::uint64_t kAtcWindowMask = (std::uint64_t{1} << kAtcWindow) - 1;
static_assert(kAtcWindow >= 1 && kAtcWindow <= 63, "the window is a BIGINT bitmap");

// Cryptogram Information Data: bits 8-7 give the cryptogram type, 10 = ARQC (Book 3 Table 15).
constexpr std::uint8_t kCidTypeMask = 0xC0;
constexpr std::uint8_t kCidTypeArqc = 0x80;
// ARC "00" (approved) as the card sees it in tag 8A / the ARPC: two ASCII characters (Book 4
// A6; pyemv's ARPC tests use 3030).
constexpr std::array<std::uint8_t, 2> kArcApproved = {0x30, 0x30};
constexpr std::string_view kDefaultPsn = "00";
constexpr std::size_t kTokenNumberDigitsMin = 13;  // TF: 13-19 digits (§2)
constexpr std::size_t kTokenNumberDigitsMax = 19;
constexpr std::size_t kTokenBinDigits8 = kTokenBinDigits;
// DE22 PAN entry mode 03 "bar code" (ISO 8583:1987 DE22 positions 1-2), which QR acquirers use
// for a scanned consumer-presented code (acquirer/pos_terminal.h kConsumerQr).
constexpr std::uint8_t kPanEntryConsumerQr = 3;
constexpr std::string_view kPanEntryConsumerQrDigits = "03";

using iso8583::PanEntryMode;

const std::array<store::Migration, 2>& Migrations() {
  // One row per token that has been used: its highest ATC and the bitmap of the window below it.
  // Keyed by token id (the vault's reference), so no token number is stored a second time.
  static const std::array<store::Migration, 2> migrations = {
      store::Migration{
          .version = 1,
          .description = "tsp token atc window",
          .sql = std::string(kTokenAtcTableSql),
          .sqlite_sql = "",
          .postgres_sql = "",
      },
      store::Migration{
          .version = 2,
          .description = "tsp token atc uses",
          .sql = std::string(kTokenAtcUsesTableSql),
          .sqlite_sql = "",
          .postgres_sql = "",
      },
  };
  return migrations;
}

bool IsBin8(std::string_view s) { return s.size() == kTokenBinDigits8 && IsAllDigits(s); }

// A value of DE55 with its required length, or kInvalidArgument naming the tag.
Result<ByteView> Required(const emv::TagValues& icc, emv::TlvTag tag, std::size_t length) {
  std::optional<ByteView> v = icc.Get(tag);
  if (!v) return InvalidArgument("DE55: tag " + emv::TlvTagHex(tag) + " missing");
  if (length != 0 && v->size() != length) {
    return InvalidArgument("DE55: tag " + emv::TlvTagHex(tag) + " has " +
                           std::to_string(v->size()) + " bytes; expected " +
                           std::to_string(length));
  }
  return *v;
}

// n-format BCD (Book 3 Annex B) as a number. kInvalidArgument naming the tag when not BCD.
Result<std::uint64_t> BcdNumber(ByteView bcd, emv::TlvTag tag) {
  Result<std::string> digits = BcdDecode(bcd);
  if (!digits.ok() || !IsAllDigits(*digits) || digits->empty()) {
    return InvalidArgument("DE55: tag " + emv::TlvTagHex(tag) + " is not BCD digits");
  }
  return std::stoull(*digits);
}

}  // namespace

struct TokenAuthorization::Range {
  std::string low;
  std::string high;
  emv::ArqcEngine engine;
};

Result<AtcState> AdvanceAtcWindow(const AtcState& state, std::uint32_t atc) {
  if (atc == 0 || atc > kAtcMax) {
    return InvalidArgument("ATC " + std::to_string(atc) + " is not a valid transaction counter");
  }
  AtcState next = state;
  if (atc > state.highest) {
    const std::uint32_t step = atc - state.highest;
    if (step > kAtcAheadMax) {
      return FailedPrecondition("ATC " + std::to_string(atc) + " is " + std::to_string(step) +
                                " above the highest seen (" + std::to_string(state.highest) +
                                "); at most " + std::to_string(kAtcAheadMax));
    }
    // The old highest becomes bit step-1 (when there was one); older bits move up by `step`.
    std::uint64_t window = step >= 64 ? 0 : state.window << step;
    if (state.highest != 0 && step <= kAtcWindow) window |= std::uint64_t{1} << (step - 1);
    next.highest = atc;
    next.window = window & kAtcWindowMask;
    return next;
  }
  if (atc == state.highest) {
    return FailedPrecondition("ATC " + std::to_string(atc) + " was already used (replay)");
  }
  const std::uint32_t behind = state.highest - atc;
  if (behind > kAtcWindow) {
    return FailedPrecondition("ATC " + std::to_string(atc) + " is " + std::to_string(behind) +
                              " below the highest seen (" + std::to_string(state.highest) +
                              "), outside the window of " + std::to_string(kAtcWindow));
  }
  const std::uint64_t bit = std::uint64_t{1} << (behind - 1);
  if ((state.window & bit) != 0) {
    return FailedPrecondition("ATC " + std::to_string(atc) + " was already used (replay)");
  }
  next.window = state.window | bit;
  return next;
}

std::span<const store::Migration> AtcMigrations() { return Migrations(); }

TokenAuthorization::TokenAuthorization(TokenVault& vault, store::Store& atc_store,
                                       std::string actor, const Clock& clock)
    : vault_(vault), atc_store_(atc_store), actor_(std::move(actor)), clock_(clock) {}

TokenAuthorization::~TokenAuthorization() = default;

Result<std::unique_ptr<TokenAuthorization>> TokenAuthorization::Open(
    TokenVault& vault, store::Store& atc_store, TokenAuthorizationOptions options) {
  if (&atc_store == &vault.store()) {
    return InvalidArgument(
        "atc_store: is the vault's store; use Open(vault, options) (TspMigrations holds the "
        "table)");
  }
  TS_ASSIGN_OR_RETURN(std::unique_ptr<TokenAuthorization> auth,
                      OpenOn(vault, atc_store, std::move(options)));
  TS_RETURN_IF_ERROR(
      store::ApplyMigrations(atc_store, AtcMigrations()).WithContext("tsp atc schema"));
  return auth;
}

Result<std::unique_ptr<TokenAuthorization>> TokenAuthorization::OpenOn(
    TokenVault& vault, store::Store& atc_store, TokenAuthorizationOptions options) {
  if (options.clock == nullptr) return InvalidArgument("options.clock is required");
  if (options.ranges.empty() || options.ranges.size() > kTokenKeyRangesMax) {
    return InvalidArgument("options.ranges must hold 1-" + std::to_string(kTokenKeyRangesMax) +
                           " token BIN ranges; got " + std::to_string(options.ranges.size()));
  }
  TS_RETURN_IF_ERROR(ValidateAuditEvent(
      {.actor = options.actor, .action = "token_auth_refused", .subject = "", .detail = ""}));
  std::unique_ptr<TokenAuthorization> auth(
      new TokenAuthorization(vault, atc_store, options.actor, *options.clock));
  for (std::size_t i = 0; i < options.ranges.size(); ++i) {
    TokenRangeKeys& r = options.ranges[i];
    const std::string field = "options.ranges[" + std::to_string(i) + "]";
    if (!IsBin8(r.low) || !IsBin8(r.high) || r.low > r.high) {
      return InvalidArgument(field + ": low and high must be 8-digit BINs with low <= high");
    }
    const emv::CryptogramProfile* profile = emv::FindCryptogramProfile(r.profile_name);
    if (profile == nullptr) {
      return InvalidArgument(field + ": unknown cryptogram profile '" + r.profile_name + "'");
    }
    if (profile->arpc_method == emv::ArpcMethod::kNone) {
      return InvalidArgument(field + ": profile '" + r.profile_name + "' has no ARPC method");
    }
    Result<emv::ArqcEngine> engine =
        emv::ArqcEngine::Create(*profile, std::move(r.issuer_master_key));
    if (!engine.ok()) return engine.status().WithContext(field);
    auth->ranges_.push_back(Range{r.low, r.high, std::move(*engine)});
  }
  std::sort(auth->ranges_.begin(), auth->ranges_.end(),
            [](const Range& a, const Range& b) { return a.low < b.low; });
  for (std::size_t i = 1; i < auth->ranges_.size(); ++i) {
    if (auth->ranges_[i].low <= auth->ranges_[i - 1].high) {
      return InvalidArgument("options.ranges: " + auth->ranges_[i - 1].low + "-" +
                             auth->ranges_[i - 1].high + " overlaps " + auth->ranges_[i].low + "-" +
                             auth->ranges_[i].high);
    }
  }
  return auth;
}

Result<std::unique_ptr<TokenAuthorization>> TokenAuthorization::Open(
    TokenVault& vault, TokenAuthorizationOptions options) {
  // The vault's store already has tsp_token_atc (TspMigrations() version 4): no AtcMigrations.
  TS_RETURN_IF_ERROR(ApplyTspSchema(vault.store()));
  return OpenOn(vault, vault.store(), std::move(options));
}

const TokenAuthorization::Range* TokenAuthorization::RangeFor(std::string_view token_number) const {
  if (token_number.size() < kTokenBinDigits8) return nullptr;
  const std::string_view bin = token_number.substr(0, kTokenBinDigits8);
  for (const Range& r : ranges_) {
    if (bin >= r.low && bin <= r.high) return &r;
  }
  return nullptr;
}

Result<AtcState> TokenAuthorization::AtcStateOf(std::string_view token_id) {
  Result<store::Row> row = atc_store_.QueryRow(
      "SELECT highest_atc, seen_window FROM tsp_token_atc WHERE token_id = ?", {token_id});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) return AtcState{};
    return row.status();
  }
  TS_ASSIGN_OR_RETURN(std::int64_t highest, row->GetInt64("highest_atc"));
  TS_ASSIGN_OR_RETURN(std::int64_t window, row->GetInt64("seen_window"));
  if (highest < 1 || highest > kAtcMax || window < 0 ||
      (static_cast<std::uint64_t>(window) & ~kAtcWindowMask) != 0) {
    return Corruption("tsp_token_atc row of token " + std::string(token_id) +
                      " holds an impossible ATC state");
  }
  return AtcState{static_cast<std::uint32_t>(highest), static_cast<std::uint64_t>(window)};
}

Result<bool> TokenAuthorization::SpentBy(std::string_view token_id, std::uint32_t atc,
                                         std::string_view repeat_key) {
  if (repeat_key.empty()) return false;
  Result<store::Row> spent =
      atc_store_.QueryRow("SELECT repeat_key FROM tsp_token_atc_uses WHERE token_id = ? AND atc = ?",
                          {token_id, static_cast<std::int64_t>(atc)});
  if (!spent.ok()) {
    if (spent.status().code() == ErrorCode::kNotFound) return false;
    return spent.status();
  }
  TS_ASSIGN_OR_RETURN(const std::string spent_by, spent->GetText("repeat_key"));
  return spent_by == repeat_key;
}

Result<bool> TokenAuthorization::RecordAtc(std::string_view token_id, std::uint32_t atc,
                                           std::string_view repeat_key) {
  bool repeat = false;
  // Joins the caller's transaction when one is open (the ATC then commits with its audit entry).
  TS_RETURN_IF_ERROR(RunInTransactionOrJoin(atc_store_, [&](store::Store& s) -> Status {
    TS_ASSIGN_OR_RETURN(const AtcState before, AtcStateOf(token_id));
    Result<AtcState> advanced = AdvanceAtcWindow(before, atc);
    if (!advanced.ok()) {
      // A used ATC is a replay, unless this is a repeat of the very request that spent it
      // (TokenUse::repeat_key): its answer was lost, and the issuer answers a repeat from what it
      // booked the first time, so no money moves twice.
      if (advanced.status().code() != ErrorCode::kFailedPrecondition) {
        return advanced.status();
      }
      TS_ASSIGN_OR_RETURN(repeat, SpentBy(token_id, atc, repeat_key));
      return repeat ? Status::Ok() : advanced.status();
    }
    const AtcState after = *advanced;
    TS_RETURN_IF_ERROR(
        s.Execute("INSERT INTO tsp_token_atc (token_id, highest_atc, seen_window, uses, "
                  "updated_unix_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (token_id) DO UPDATE SET "
                  "highest_atc = excluded.highest_atc, seen_window = excluded.seen_window, "
                  "uses = tsp_token_atc.uses + 1, updated_unix_ms = excluded.updated_unix_ms",
                  {std::string(token_id), static_cast<std::int64_t>(after.highest),
                   static_cast<std::int64_t>(after.window), clock_.NowUnixMillis()})
            .status());
    // The same property on the second path (TigerBeetle style): read back, the ATC only grows
    // and the ATC just used now counts as seen.
    TS_ASSIGN_OR_RETURN(const AtcState stored, AtcStateOf(token_id));
    if (stored.highest < before.highest || stored.highest != after.highest ||
        stored.window != after.window || AdvanceAtcWindow(stored, atc).ok()) {
      return Internal("tsp_token_atc of token " + std::string(token_id) +
                      " did not store the ATC as computed");
    }
    if (repeat_key.empty()) return Status::Ok();
    TS_RETURN_IF_ERROR(
        s.Execute("INSERT INTO tsp_token_atc_uses (token_id, atc, repeat_key) VALUES (?, ?, ?)",
                  {std::string(token_id), static_cast<std::int64_t>(atc), std::string(repeat_key)})
            .status());
    // ATCs below the window are refused whoever repeats them: their requests are forgotten.
    if (stored.highest <= kAtcWindow + 1) return Status::Ok();
    return s
        .Execute("DELETE FROM tsp_token_atc_uses WHERE token_id = ? AND atc < ?",
                 {std::string(token_id), static_cast<std::int64_t>(stored.highest - kAtcWindow)})
        .status();
  }));
  return repeat;
}

Result<DetokenizedPan> TokenAuthorization::ResolveFollowUp(std::string_view token_number,
                                                           std::string_view purpose) {
  // A suspended token (a lost phone) stops new payments, not the follow-ups of payments made
  // before: a reversal, completion or advice that cannot reach the issuer would leave its hold
  // or posting in place.
  return vault_.Detokenize(
      token_number, {.actor = actor_, .purpose = std::string(purpose), .allow_suspended = true});
}

CheckedCryptogram TokenAuthorization::CheckCryptogram(const TokenUse& use) const {
  CheckedCryptogram c;
  auto fail = [&c](std::string_view reason, Status why) -> CheckedCryptogram {
    c.reason = std::string(reason);
    c.failure = std::move(why);
    return std::move(c);
  };
  if (use.token_number.size() < kTokenNumberDigitsMin ||
      use.token_number.size() > kTokenNumberDigitsMax || !IsAllDigits(use.token_number)) {
    c.before_lookup = true;
    return fail("", InvalidArgument("token number must be 13-19 digits"));
  }
  // A credit carries no cryptogram: nothing to check here, and no keys are needed (Decide).
  if (iso8583::IsCreditProcessingCode(use.processing_code)) return c;
  const Range* range = RangeFor(use.token_number);
  if (range == nullptr) {
    c.before_lookup = true;
    return fail("", NotFound("no cryptogram keys for the token's BIN range"));
  }

  // 3. DE55: an ARQC with its data, for this amount and currency.
  if (use.icc_data.empty()) {
    return fail("no_cryptogram", InvalidArgument("DE55 with the token's ARQC is required"));
  }
  Result<emv::TlvTree> tree = emv::DecodeTlv(use.icc_data);
  if (!tree.ok()) {
    return fail("de55_malformed",
                InvalidArgument("DE55 is not BER-TLV: " + tree.status().message()));
  }
  emv::TagValues icc;
  if (Status added = icc.AddFromTree(*tree); !added.ok()) return fail("", std::move(added));
  auto data = [&]() -> Result<std::tuple<ByteView, std::uint8_t, std::uint16_t, ByteView>> {
    TS_ASSIGN_OR_RETURN(ByteView arqc, Required(icc, 0x9F26, crypto::kApplicationCryptogramBytes));
    TS_ASSIGN_OR_RETURN(ByteView cid, Required(icc, 0x9F27, 1));
    TS_ASSIGN_OR_RETURN(ByteView atc, Required(icc, 0x9F36, 2));
    TS_ASSIGN_OR_RETURN(ByteView iad, Required(icc, 0x9F10, 0));
    TS_ASSIGN_OR_RETURN(ByteView amount, Required(icc, 0x9F02, 6));
    TS_ASSIGN_OR_RETURN(ByteView currency, Required(icc, 0x5F2A, 2));
    TS_ASSIGN_OR_RETURN(std::uint64_t amount_minor, BcdNumber(amount, 0x9F02));
    TS_ASSIGN_OR_RETURN(std::uint64_t currency_numeric, BcdNumber(currency, 0x5F2A));
    // A consumer-presented QR code is made before the merchant enters the amount: its 9F02 is
    // zero and the issuer authorises DE4 (the ATC still makes the code single use).
    const bool amount_unknown =
        use.pos_entry_mode.substr(0, 2) == kPanEntryConsumerQrDigits && amount_minor == 0;
    if (use.amount_minor < 0 ||
        (!amount_unknown && amount_minor != static_cast<std::uint64_t>(use.amount_minor))) {
      return InvalidArgument("DE55 9F02 amount is not the request's amount (DE4)");
    }
    if (currency_numeric != use.currency_numeric) {
      return InvalidArgument("DE55 5F2A currency is not the request's currency (DE49)");
    }
    return std::tuple{arqc, cid[0], static_cast<std::uint16_t>(BytesToUint(atc)), iad};
  }();
  if (!data.ok()) return fail("de55_data", InvalidArgument(data.status().message()));
  const auto [arqc, cid, atc, iad] = *data;
  if ((cid & kCidTypeMask) != kCidTypeArqc) {
    return fail("not_arqc", InvalidArgument("DE55 cryptogram is not an ARQC (9F27 type bits " +
                                            HexEncode(ByteView(&cid, 1)) + ")"));
  }

  // 4. The ARQC with the token's keys. The card computed it over the token number (5A/57).
  emv::ArqcInput in;
  in.pan = use.token_number;
  in.psn = use.psn.empty() ? kDefaultPsn : use.psn;
  in.atc = atc;
  in.iad = iad;
  in.tags = emv::TagSources{&icc};
  const Status verified = range->engine.VerifyArqc(in, arqc);
  if (!verified.ok()) {
    if (verified.code() == ErrorCode::kCryptoFailure) {
      return fail("arqc_invalid",
                  InvalidArgument("ARQC does not verify with the token's keys (ATC " +
                                  std::to_string(atc) + ")"));
    }
    return fail("arqc_data", InvalidArgument("cryptogram data: " + verified.message()));
  }
  emv::ArpcInput response;
  response.arc = kArcApproved;
  Result<emv::ArpcResult> arpc = range->engine.GenerateArpc(in, arqc, response);
  if (!arpc.ok()) return fail("", arpc.status());
  c.atc = atc;
  c.issuer_authentication_data = std::move(arpc->issuer_authentication_data);
  return c;
}

Status TokenAuthorization::Refuse(const TokenRecord& record, std::string_view reason, Status why,
                                  Result<TokenAuthorizationResult>& decision) {
  // PCI DSS 10.2.1: refused attempts are audited too, in the caller's transaction when one is
  // open. When the audit cannot be written that store error is returned (the use is declined
  // either way, and a joined transaction must roll back).
  const AuditEvent event{.actor = actor_,
                         .action = "token_auth_refused",
                         .subject = record.token_id,
                         .detail = "reason=" + std::string(reason)};
  Result<AuditEntry> entry = vault_.store().in_transaction()
                                 ? vault_.audit_log().AppendInTransaction(event)
                                 : vault_.audit_log().Append(event);
  if (!entry.ok()) return entry.status().WithContext("audit of a refused token use");
  decision = std::move(why);
  return Status::Ok();
}

Status TokenAuthorization::Decide(const TokenUse& use, const CheckedCryptogram& checked,
                                  Result<TokenAuthorizationResult>& decision) {
  decision = Internal("token use not decided");
  if (checked.before_lookup) {
    decision = checked.failure;
    return Status::Ok();
  }

  // 1. The token and its state.
  Result<TokenRecord> found = vault_.FindByTokenNumber(use.token_number);
  if (!found.ok()) {
    if (found.status().code() != ErrorCode::kNotFound) return found.status();
    decision = found.status();
    return Status::Ok();
  }
  const TokenRecord& record = *found;
  const std::string who = "token " + record.token_id;
  // A credit may reach a suspended token (a refund to a card whose phone was lost).
  const bool credit = iso8583::IsCreditProcessingCode(use.processing_code);
  // So may a repeat of a payment accepted before the suspension (see "ATC window"): it is not a new
  // payment, and its hold stands at the issuer whatever the TSP answers.
  bool repeat_while_suspended = false;
  if (record.state == TokenState::kSuspended && !credit && checked.failure.ok()) {
    TS_ASSIGN_OR_RETURN(repeat_while_suspended, SpentBy(record.token_id, checked.atc, use.repeat_key));
  }
  if (record.state != TokenState::kActive &&
      !(credit && record.state == TokenState::kSuspended) && !repeat_while_suspended) {
    const std::string_view state = TokenStateName(record.state);
    return Refuse(record, "state_" + std::string(state),
                  FailedPrecondition(who + " is " + std::string(state)), decision);
  }

  // 2. Token Domain Restriction Controls. A credit is accepted from any entry mode (a refund
  // keyed at the till, a wallet's withdrawal): only a use that spends the card is restricted.
  bool contactless = false;
  bool in_app = false;
  bool consumer_qr = false;
  if (!credit) {
    Result<iso8583::PosEntryMode> mode = iso8583::PosEntryMode::Parse(use.pos_entry_mode);
    if (!mode.ok()) {
      return Refuse(record, "de22_malformed", InvalidArgument("DE22 must be 3 digits"), decision);
    }
    contactless = mode->pan_entry == static_cast<std::uint8_t>(PanEntryMode::kContactlessChip);
    in_app = mode->pan_entry == static_cast<std::uint8_t>(PanEntryMode::kEcommerce) ||
             mode->pan_entry == static_cast<std::uint8_t>(PanEntryMode::kEcommerceAlt);
    consumer_qr = mode->pan_entry == kPanEntryConsumerQr;
  }
  if (!credit && !contactless && !in_app && !consumer_qr) {
    return Refuse(record, "channel",
                  FailedPrecondition(who + ": PAN entry mode " +
                                     std::string(use.pos_entry_mode.substr(0, 2)) +
                                     " is outside the token's domain (07 contactless chip, 81/09 "
                                     "in-app, 03 consumer-presented QR only)"),
                  decision);
  }
  if (in_app && use.device_id.empty()) {
    return Refuse(record, "device_missing",
                  FailedPrecondition(who + ": an in-app use must name its device (DE48 DI)"),
                  decision);
  }
  if (!use.device_id.empty() && use.device_id != record.device_id) {
    return Refuse(record, "device",
                  FailedPrecondition(who + " is bound to another device than DE48 DI names"),
                  decision);
  }
  if (!use.requestor_id.empty() && use.requestor_id != record.requestor_id) {
    return Refuse(record, "requestor",
                  FailedPrecondition(who + " belongs to another token requestor than DE48 TR"),
                  decision);
  }
  if (!use.token_expiry.empty() && use.token_expiry != record.token_expiry) {
    return Refuse(record, "expiry",
                  FailedPrecondition(who + ": DE14 is not the token's expiry date"), decision);
  }

  // A credit: no cryptogram, no ATC; the funding PAN, audited.
  if (credit) {
    return Resolve(use, DetokenizeRequest{.actor = actor_,
                                          .purpose = "credit processing=" +
                                                     std::string(use.processing_code.substr(0, 6)) +
                                                     " state=" +
                                                     std::string(TokenStateName(record.state)),
                                          .allow_suspended = true},
                   0, {}, decision);
  }

  // 3-4. DE55 and the ARQC, checked before (CheckCryptogram).
  if (!checked.failure.ok()) {
    if (checked.reason.empty()) {
      decision = checked.failure;
      return Status::Ok();
    }
    return Refuse(record, checked.reason,
                  Status(checked.failure.code(), who + ": " + checked.failure.message()), decision);
  }

  // 5. The ATC, durable before the approval (in the caller's transaction when one is open).
  Result<bool> recorded = RecordAtc(record.token_id, checked.atc, use.repeat_key);
  if (!recorded.ok()) {
    if (recorded.status().code() != ErrorCode::kFailedPrecondition &&
        recorded.status().code() != ErrorCode::kInvalidArgument) {
      return recorded.status();
    }
    return Refuse(record, "atc",
                  Status(recorded.status().code(), who + ": " + recorded.status().message()),
                  decision);
  }

  // 6. The funding PAN (audited by the vault).
  const std::string channel = contactless ? "nfc" : consumer_qr ? "qr" : "in_app";
  return Resolve(use,
                 DetokenizeRequest{.actor = actor_,
                                   .purpose = "authorisation atc=" + std::to_string(checked.atc) +
                                              " arqc=verified channel=" + channel +
                                              (*recorded ? " repeat" : ""),
                                   .allow_suspended = repeat_while_suspended},
                 checked.atc, checked.issuer_authentication_data, decision);
}

Status TokenAuthorization::Resolve(const TokenUse& use, const DetokenizeRequest& request,
                                   std::uint16_t atc, const Bytes& issuer_authentication_data,
                                   Result<TokenAuthorizationResult>& decision) {
  if (vault_.store().in_transaction()) {
    std::optional<DetokenizedPan> funding;
    Status refusal;
    TS_RETURN_IF_ERROR(vault_.DetokenizeInTransaction(use.token_number, request, funding, refusal));
    if (!refusal.ok()) {
      decision = std::move(refusal);
      return Status::Ok();
    }
    if (!funding) return Internal("detokenize in transaction without a result");
    decision = TokenAuthorizationResult{std::move(*funding), atc, issuer_authentication_data};
    return Status::Ok();
  }
  Result<DetokenizedPan> funding = vault_.Detokenize(use.token_number, request);
  if (!funding.ok()) {
    decision = funding.status();
    return Status::Ok();
  }
  decision = TokenAuthorizationResult{std::move(*funding), atc, issuer_authentication_data};
  return Status::Ok();
}

Status TokenAuthorization::DecideInTransaction(const TokenUse& use,
                                               const CheckedCryptogram& checked,
                                               Result<TokenAuthorizationResult>& decision) {
  if (&atc_store_ != &vault_.store()) {
    return FailedPrecondition("DecideInTransaction needs the ATC table in the vault's store");
  }
  if (!vault_.store().in_transaction()) {
    return FailedPrecondition("DecideInTransaction needs an open transaction");
  }
  return Decide(use, checked, decision);
}

Result<TokenAuthorizationResult> TokenAuthorization::Authorize(const TokenUse& use) {
  const CheckedCryptogram checked = CheckCryptogram(use);
  Result<TokenAuthorizationResult> decision = Internal("token use not decided");
  if (&atc_store_ == &vault_.store()) {
    // One transaction: the ATC, the audit entry (or the refusal's) commit together.
    TS_RETURN_IF_ERROR(RunInTransactionOrJoin(vault_.store(), [&](store::Store&) -> Status {
      TS_RETURN_IF_ERROR(vault_.audit_log().LockChainInTransaction());
      return Decide(use, checked, decision);
    }));
    return decision;
  }
  TS_RETURN_IF_ERROR(Decide(use, checked, decision));
  return decision;
}

}  // namespace tapstack::tsp
