#include "transit/card_registry.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/hex.h"
#include "transit/bcd_time.h"
#include "transit/operator_store.h"

namespace tapstack::transit {

namespace {

constexpr std::string_view kSerialSequence = "card_serial_sequence";
constexpr std::string_view kBlacklistVersion = "blacklist_version";
// APPLICATION BLOCK header, the input of its secure-messaging MAC (transit-purse.md section 9).
constexpr std::array<std::uint8_t, 5> kApplicationBlockHeader = {0x84, 0x1E, 0x00, 0x00, 0x04};

constexpr std::string_view kCardColumns =
    "serial, card_id, account_id, device_id, device_public_key, status, opening_fee_fen, "
    "deposit_fen,"
    " opening_balance_fen, start_date, expiry_date, replaces, replaced_by, final_balance_fen,"
    " created_unix_ms";

std::int64_t NowMillis(const Clock& clock) { return clock.NowUnixMillis(); }

Status CheckId(std::string_view field, std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kRegistryIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
                  });
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + ": expected 1-" +
                         std::to_string(kRegistryIdBytesMax) +
                         " characters of A-Z a-z 0-9 . _ : -");
}

Status CheckSerial(std::string_view serial) {
  if (serial.size() == kCardSerialDigits && IsAllDigits(serial)) return Status::Ok();
  return InvalidArgument("card serial: expected " + std::to_string(kCardSerialDigits) + " digits");
}

Result<CardStatus> ParseStatus(std::string_view name) {
  for (CardStatus status : {CardStatus::kIssuing, CardStatus::kActive, CardStatus::kLost,
                            CardStatus::kClosed, CardStatus::kMigrated}) {
    if (CardStatusName(status) == name) return status;
  }
  return Corruption("transit_cards.status: unknown value \"" + std::string(name) + "\"");
}

Result<std::uint32_t> U32(const store::Row& row, std::string_view column) {
  TS_ASSIGN_OR_RETURN(std::int64_t v, row.GetInt64(column));
  if (v < 0 || v > 0xFFFFFFFFLL) return Corruption(std::string(column) + ": out of range");
  return static_cast<std::uint32_t>(v);
}

Result<TransitCardInfo> CardFromRow(const store::Row& row) {
  TransitCardInfo card;
  TS_ASSIGN_OR_RETURN(card.serial, row.GetText("serial"));
  TS_ASSIGN_OR_RETURN(card.card_id, row.GetText("card_id"));
  TS_ASSIGN_OR_RETURN(card.account_id, row.GetText("account_id"));
  TS_ASSIGN_OR_RETURN(card.device_id, row.GetText("device_id"));
  TS_ASSIGN_OR_RETURN(std::string status, row.GetText("status"));
  TS_ASSIGN_OR_RETURN(card.status, ParseStatus(status));
  TS_ASSIGN_OR_RETURN(card.opening_fee_fen, U32(row, "opening_fee_fen"));
  TS_ASSIGN_OR_RETURN(card.deposit_fen, U32(row, "deposit_fen"));
  TS_ASSIGN_OR_RETURN(card.opening_balance_fen, U32(row, "opening_balance_fen"));
  TS_ASSIGN_OR_RETURN(card.issued_date, U32(row, "start_date"));
  TS_ASSIGN_OR_RETURN(card.expiry_date, U32(row, "expiry_date"));
  TS_ASSIGN_OR_RETURN(card.replaces, row.GetOptionalText("replaces"));
  TS_ASSIGN_OR_RETURN(card.replaced_by, row.GetOptionalText("replaced_by"));
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> final_balance,
                      row.GetOptionalInt64("final_balance_fen"));
  if (final_balance.has_value())
    card.final_balance_fen = static_cast<std::uint32_t>(*final_balance);
  TS_ASSIGN_OR_RETURN(card.created_unix_ms, row.GetInt64("created_unix_ms"));
  return card;
}

// The card row and its device key; kNotFound naming the serial.
struct CardRow {
  TransitCardInfo info;
  Bytes device_public_key;
};

Result<CardRow> LoadCard(store::Store& store, std::string_view where_column,
                         std::string_view value) {
  const std::string sql = "SELECT " + std::string(kCardColumns) + " FROM transit_cards WHERE " +
                          std::string(where_column) + " = ?";
  Result<store::Row> row = store.QueryRow(sql, {value});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      return NotFound("no transit card with " + std::string(where_column) + " " +
                      std::string(value));
    }
    return row.status();
  }
  CardRow card;
  TS_ASSIGN_OR_RETURN(card.info, CardFromRow(*row));
  TS_ASSIGN_OR_RETURN(card.device_public_key, row->GetBlob("device_public_key"));
  return card;
}

// Adds one to the named counter (1 the first time) and returns it.
Result<std::int64_t> NextMeta(store::Store& store, std::string_view name) {
  TS_ASSIGN_OR_RETURN(
      store::Row row,
      store.QueryRow("INSERT INTO transit_meta (name, value) VALUES (?, 1)"
                     " ON CONFLICT (name) DO UPDATE SET value = transit_meta.value + 1"
                     " RETURNING value",
                     {name}));
  return row.GetInt64(0);
}

// The next card serial of `city_code` (inside the caller's transaction): the city code, then a
// 16-digit sequence number.
Result<std::string> NextSerial(store::Store& store, const std::string& city_code) {
  TS_ASSIGN_OR_RETURN(std::int64_t sequence, NextMeta(store, kSerialSequence));
  if (sequence > kCardSequenceMax) return OutOfRange("card serial sequence exhausted");
  const std::string digits = std::to_string(sequence);
  return city_code + std::string(16 - digits.size(), '0') + digits;
}

Result<std::int64_t> MetaValue(store::Store& store, std::string_view name) {
  Result<store::Row> row = store.QueryRow("SELECT value FROM transit_meta WHERE name = ?", {name});
  if (row.ok()) return row->GetInt64(0);
  if (row.status().code() == ErrorCode::kNotFound) return std::int64_t{0};
  return row.status();
}

// Lists `serial` (inside the caller's transaction); a listed serial keeps its entry and version.
Status BlacklistLocked(store::Store& store, std::string_view serial,
                       crypto::PurseAlgorithm algorithm, std::string_view reason,
                       std::int64_t now_ms) {
  TS_ASSIGN_OR_RETURN(
      store::Rows listed,
      store.Query("SELECT card_serial FROM transit_blacklist WHERE card_serial = ?", {serial}));
  if (!listed.empty()) return Status::Ok();
  TS_ASSIGN_OR_RETURN(std::int64_t version, NextMeta(store, kBlacklistVersion));
  return store
      .Execute(
          "INSERT INTO transit_blacklist (card_serial, algorithm, reason, listed_version, "
          "created_unix_ms)"
          " VALUES (?, ?, ?, ?, ?)",
          {serial, static_cast<std::int64_t>(algorithm), reason, version, now_ms})
      .status();
}

// YYYYMMDD of `unix_ms` in China Standard Time.
Result<std::uint32_t> LocalDate(std::int64_t unix_ms) {
  TS_ASSIGN_OR_RETURN(BcdDate bcd, ToBcdDate(unix_ms / 1000));
  TS_ASSIGN_OR_RETURN(std::string digits, BcdDecode(bcd));
  std::uint32_t date = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), date);
  return date;
}

// The same day `years` later; 29 February becomes 28 February in a common year.
std::uint32_t AddYears(std::uint32_t date, std::uint32_t years) {
  std::uint32_t later = date + years * 10'000;
  if (later % 10'000 == 229) {
    const std::uint32_t year = later / 10'000;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (!leap) later -= 1;
  }
  return later;
}

Result<Serial> SerialBytes(std::string_view digits) {
  TS_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(digits));
  Serial serial{};
  if (bytes.size() != serial.size()) return InvalidArgument("card serial: expected 20 digits");
  std::copy(bytes.begin(), bytes.end(), serial.begin());
  return serial;
}

Status CheckKeys(const TransitMasterKeys& keys) {
  const std::pair<const char*, const crypto::SecretBytes*> all[] = {
      {"purchase", &keys.purchase},
      {"maintenance", &keys.maintenance},
      {"load", &keys.load},
      {"tac", &keys.tac}};
  for (const auto& [name, key] : all) {
    if (key->size() != crypto::kPurseKeyBytes) {
      return InvalidArgument(std::string("card registry: ") + name + " master key: expected " +
                             std::to_string(crypto::kPurseKeyBytes) + " bytes");
    }
  }
  return Status::Ok();
}

constexpr std::string_view kRefundColumns =
    "refund_id, account_id, card_serial, amount_fen, reason, state, card_on_file, credit_ref,"
    " paying_unix_ms, last_error";

// `paying`: the refunds whose credit this process has on its way; any other refund with
// paying_unix_ms set was being paid by a process that stopped.
Result<Refund> RefundFromRow(const store::Row& row, const std::set<std::string, std::less<>>& paying) {
  Refund refund;
  TS_ASSIGN_OR_RETURN(refund.refund_id, row.GetText("refund_id"));
  TS_ASSIGN_OR_RETURN(refund.account_id, row.GetText("account_id"));
  TS_ASSIGN_OR_RETURN(refund.card_serial, row.GetText("card_serial"));
  TS_ASSIGN_OR_RETURN(refund.amount_fen, U32(row, "amount_fen"));
  TS_ASSIGN_OR_RETURN(refund.reason, row.GetText("reason"));
  TS_ASSIGN_OR_RETURN(const std::string state, row.GetText("state"));
  TS_ASSIGN_OR_RETURN(const std::optional<std::string> card, row.GetOptionalText("card_on_file"));
  TS_ASSIGN_OR_RETURN(const std::optional<std::string> credit, row.GetOptionalText("credit_ref"));
  TS_ASSIGN_OR_RETURN(const std::optional<std::int64_t> paying_since,
                      row.GetOptionalInt64("paying_unix_ms"));
  TS_ASSIGN_OR_RETURN(const std::optional<std::string> error, row.GetOptionalText("last_error"));
  refund.has_card_on_file = card.has_value();
  refund.credit_ref = credit.value_or("");
  refund.last_error = error.value_or("");
  if (state == "paid") {
    refund.state = RefundState::kPaid;
  } else if (!paying_since.has_value()) {
    refund.state = RefundState::kDue;
  } else {
    refund.state = paying.contains(refund.refund_id) ? RefundState::kPaying : RefundState::kUnknown;
  }
  return refund;
}

}  // namespace

std::string_view CardStatusName(CardStatus status) {
  switch (status) {
    case CardStatus::kIssuing:
      return "issuing";
    case CardStatus::kActive:
      return "active";
    case CardStatus::kLost:
      return "lost";
    case CardStatus::kClosed:
      return "closed";
    case CardStatus::kMigrated:
      return "migrated";
  }
  return "unknown";
}

std::string_view RefundStateName(RefundState state) {
  switch (state) {
    case RefundState::kDue:
      return "due";
    case RefundState::kPaying:
      return "paying";
    case RefundState::kPaid:
      return "paid";
    case RefundState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Result<std::unique_ptr<CardRegistry>> CardRegistry::Open(CardRegistryOptions options) {
  if (options.city == nullptr) return InvalidArgument("card registry: no city");
  if (options.store == nullptr) return InvalidArgument("card registry: no store");
  if (options.payment == nullptr) return InvalidArgument("card registry: no payment");
  TS_RETURN_IF_ERROR(CheckKeys(options.keys));
  TS_RETURN_IF_ERROR(ApplyOperatorSchema(*options.store));
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  return std::unique_ptr<CardRegistry>(new CardRegistry(std::move(options), clock));
}

Result<Bytes> CardRegistry::Personalise(const TransitCardInfo& card,
                                        ByteView device_public_key) const {
  CardIssue issue;
  issue.card_id = card.card_id;
  TS_ASSIGN_OR_RETURN(issue.serial, SerialBytes(card.serial));
  issue.start_date = card.issued_date;
  issue.expiry_date = card.expiry_date;
  issue.balance_fen = card.opening_balance_fen;
  return PersonaliseTransitCard(*options_.city, options_.keys, issue, device_public_key,
                                card.device_id);
}

Result<IssuedCard> CardRegistry::Answer(const std::string& serial, ByteView device_public_key,
                                        std::uint32_t fee_fen) const {
  TS_ASSIGN_OR_RETURN(CardRow card, LoadCard(*options_.store, "serial", serial));
  IssuedCard issued;
  issued.serial = card.info.serial;
  issued.card_id = card.info.card_id;
  TS_ASSIGN_OR_RETURN(issued.wrapped_profile, Personalise(card.info, device_public_key));
  issued.fee_fen = fee_fen;
  issued.deposit_fen = card.info.deposit_fen;
  issued.opening_balance_fen = card.info.opening_balance_fen;
  issued.start_date = card.info.issued_date;
  issued.expiry_date = card.info.expiry_date;
  return issued;
}

Result<IssuedCard> CardRegistry::IssueCard(const CardRequest& request) {
  TS_RETURN_IF_ERROR(CheckId("card_id", request.card_id));
  TS_RETURN_IF_ERROR(CheckId("account_id", request.account_id));
  TS_RETURN_IF_ERROR(CheckId("device_id", request.device_id));
  std::lock_guard lock(mu_);
  store::Store& store = *options_.store;
  const CardRules& rules = options_.city->card_rules();
  const std::uint32_t charge_fen = rules.opening_fee_fen + rules.deposit_fen;

  std::string serial;
  Result<CardRow> existing = LoadCard(store, "card_id", request.card_id);
  if (existing.ok()) {
    const CardRow& card = *existing;
    if (card.info.account_id != request.account_id || card.info.device_id != request.device_id ||
        card.device_public_key != request.device_public_key) {
      return AlreadyExists("card_id " + request.card_id +
                           " is already issued to another account or device");
    }
    if (card.info.status != CardStatus::kIssuing && card.info.status != CardStatus::kActive) {
      return FailedPrecondition("card_id " + request.card_id + " names card " + card.info.serial +
                                ", now " + std::string(CardStatusName(card.info.status)));
    }
    serial = card.info.serial;
  } else if (existing.status().code() != ErrorCode::kNotFound) {
    return existing.status();
  } else {
    // Write the card before charging, so a crash between the two leaves a trace the retry resumes.
    const std::int64_t now_ms = NowMillis(clock_);
    TS_ASSIGN_OR_RETURN(const std::uint32_t today, LocalDate(now_ms));
    TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
      TS_ASSIGN_OR_RETURN(serial, NextSerial(tx, options_.city->city_code()));
      TransitCardInfo card;
      card.serial = serial;
      card.card_id = request.card_id;
      card.device_id = request.device_id;
      card.issued_date = today;
      card.expiry_date = AddYears(today, kCardValidityYears);
      // A trial personalisation refuses a bad device key before any money moves.
      TS_RETURN_IF_ERROR(Personalise(card, request.device_public_key).status());
      return tx
          .Execute(
              "INSERT INTO transit_cards (serial, card_id, account_id, device_id, "
              "device_public_key,"
              " status, opening_fee_fen, deposit_fen, opening_balance_fen, issue_payment_captured,"
              " start_date, expiry_date, created_unix_ms, updated_unix_ms)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
              {serial, request.card_id, request.account_id, request.device_id,
               ByteView(request.device_public_key),
               std::string(
                   CardStatusName(charge_fen > 0 ? CardStatus::kIssuing : CardStatus::kActive)),
               rules.opening_fee_fen, rules.deposit_fen, false,
               static_cast<std::int64_t>(card.issued_date),
               static_cast<std::int64_t>(card.expiry_date), now_ms, now_ms})
          .status();
    }));
  }
  TS_RETURN_IF_ERROR(ChargeIssue(serial, charge_fen, request.payment_data));
  TS_ASSIGN_OR_RETURN(CardRow card, LoadCard(store, "serial", serial));
  return Answer(serial, request.device_public_key, card.info.opening_fee_fen);
}

Status CardRegistry::ChargeIssue(const std::string& serial, std::uint32_t amount_fen,
                                 const nlohmann::json& payment_data) {
  store::Store& store = *options_.store;
  TS_ASSIGN_OR_RETURN(
      store::Row row,
      store.QueryRow("SELECT card_id, status, issue_payment_ref, issue_payment_captured"
                     " FROM transit_cards WHERE serial = ?",
                     {serial}));
  TS_ASSIGN_OR_RETURN(std::string status, row.GetText("status"));
  if (status != CardStatusName(CardStatus::kIssuing)) return Status::Ok();
  TS_ASSIGN_OR_RETURN(std::string card_id, row.GetText("card_id"));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> payment_ref,
                      row.GetOptionalText("issue_payment_ref"));
  TS_ASSIGN_OR_RETURN(bool captured, row.GetBool("issue_payment_captured"));
  const std::string order_id = "open-" + card_id;  // the wallet asks for its payment request under this id
  if (!payment_ref.has_value()) {
    Result<std::string> ref = options_.payment->Authorize(order_id, amount_fen, payment_data);
    if (!ref.ok()) {
      const ErrorCode code = ref.status().code();
      if (code == ErrorCode::kFailedPrecondition || code == ErrorCode::kInvalidArgument) {
        // Declined: nothing is held, so nothing stays registered; the wallet may retry with
        // other payment data under the same card_id (a new serial is allocated then).
        TS_RETURN_IF_ERROR(store
                               .Execute("DELETE FROM transit_cards WHERE serial = ? AND status = ?",
                                        {serial, std::string(CardStatusName(CardStatus::kIssuing))})
                               .status());
      }
      return ref.status().WithContext("card " + card_id + ": opening fee and deposit");
    }
    payment_ref = *ref;
    // Kept to refund the deposit later; an implementation that cannot refund leaves it empty.
    const Result<std::string> card_on_file = options_.payment->CardOnFile(*payment_ref);
    TS_RETURN_IF_ERROR(
        store
            .Execute("UPDATE transit_cards SET issue_payment_ref = ?, issue_card_on_file = ?,"
                     " updated_unix_ms = ? WHERE serial = ?",
                     {*payment_ref,
                      card_on_file.ok() ? store::Value(*card_on_file) : store::Value(),
                      NowMillis(clock_), serial})
            .status());
  }
  if (!captured) {
    TS_RETURN_IF_ERROR(
        options_.payment->Capture(*payment_ref)
            .WithContext("card " + card_id + ": capture of the opening fee and deposit"));
  }
  return store
      .Execute(
          "UPDATE transit_cards SET issue_payment_captured = ?, status = ?, updated_unix_ms = ?"
          " WHERE serial = ?",
          {true, std::string(CardStatusName(CardStatus::kActive)), NowMillis(clock_), serial})
      .status();
}

Result<TransitCardInfo> CardRegistry::Card(std::string_view serial) const {
  TS_RETURN_IF_ERROR(CheckSerial(serial));
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(CardRow card, LoadCard(*options_.store, "serial", serial));
  return card.info;
}

Result<std::vector<TransitCardInfo>> CardRegistry::CardsOfAccount(
    std::string_view account_id) const {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      options_.store->Query("SELECT " + std::string(kCardColumns) +
                                                " FROM transit_cards WHERE account_id = ?"
                                                " ORDER BY created_unix_ms, serial",
                                            {account_id}));
  std::vector<TransitCardInfo> cards;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(TransitCardInfo card, CardFromRow(row));
    cards.push_back(std::move(card));
  }
  return cards;
}

Result<std::vector<Refund>> CardRegistry::RefundsOfAccount(std::string_view account_id) const {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      options_.store->Query("SELECT " + std::string(kRefundColumns) +
                                                " FROM transit_refunds WHERE account_id = ?"
                                                " ORDER BY created_unix_ms, refund_id",
                                            {account_id}));
  std::vector<Refund> refunds;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(Refund refund, RefundFromRow(row, refunds_paying_));
    refunds.push_back(std::move(refund));
  }
  return refunds;
}

Result<Refund> CardRegistry::LoadRefundLocked(std::string_view refund_id) const {
  Result<store::Row> row = options_.store->QueryRow(
      "SELECT " + std::string(kRefundColumns) + " FROM transit_refunds WHERE refund_id = ?",
      {refund_id});
  if (!row.ok() && row.status().code() == ErrorCode::kNotFound) {
    return NotFound("no refund " + std::string(refund_id));
  }
  if (!row.ok()) return row.status();
  return RefundFromRow(*row, refunds_paying_);
}

Result<Refund> CardRegistry::RefundById(std::string_view refund_id) const {
  std::lock_guard lock(mu_);
  return LoadRefundLocked(refund_id);
}

Result<Refund> CardRegistry::PayRefund(std::string_view refund_id) {
  Refund refund;
  std::string card_on_file;
  {
    std::lock_guard lock(mu_);
    TS_ASSIGN_OR_RETURN(refund, LoadRefundLocked(refund_id));
    if (refund.state == RefundState::kPaid || refund.state == RefundState::kUnknown) return refund;
    if (refund.state == RefundState::kPaying) {
      return Unavailable("refund " + refund.refund_id + ": its credit is on its way; retry");
    }
    if (!refund.has_card_on_file) {
      return FailedPrecondition("refund " + refund.refund_id +
                                ": no payment of this card is on file; it is paid by hand");
    }
    TS_ASSIGN_OR_RETURN(store::Row row,
                        options_.store->QueryRow(
                            "SELECT card_on_file FROM transit_refunds WHERE refund_id = ?",
                            {refund.refund_id}));
    TS_ASSIGN_OR_RETURN(card_on_file, row.GetText("card_on_file"));
    // Durable before the credit is sent: a crash before its answer is recorded leaves "unknown"
    // (never sent twice), not "due".
    TS_RETURN_IF_ERROR(options_.store
                           ->Execute("UPDATE transit_refunds SET paying_unix_ms = ?"
                                     " WHERE refund_id = ? AND state = 'due'",
                                     {NowMillis(clock_), refund.refund_id})
                           .status());
    refunds_paying_.insert(refund.refund_id);
  }
  const Result<std::string> credit =
      options_.payment->Refund(refund.refund_id, card_on_file, refund.amount_fen);
  std::lock_guard lock(mu_);
  refunds_paying_.erase(refund.refund_id);
  const Status recorded =
      credit.ok()
          ? options_.store
                ->Execute("UPDATE transit_refunds SET state = 'paid', credit_ref = ?,"
                          " paid_unix_ms = ?, paying_unix_ms = NULL, last_error = NULL"
                          " WHERE refund_id = ?",
                          {*credit, NowMillis(clock_), refund.refund_id})
                .status()
          : options_.store
                ->Execute("UPDATE transit_refunds SET paying_unix_ms = NULL, last_error = ?"
                          " WHERE refund_id = ?",
                          {credit.status().message(), refund.refund_id})
                .status();
  // Not recorded: the refund reads "unknown" from now on, so it is not paid twice.
  TS_RETURN_IF_ERROR(recorded);
  return LoadRefundLocked(refund.refund_id);
}

Result<std::optional<std::string>> CardRegistry::CardOnFileOf(store::Store& store,
                                                              std::string serial) const {
  // A migrated card carries its predecessors' money: look back along `replaces` (bounded, as
  // migrations are: a few a year).
  constexpr int kChainCardsMax = 64;
  for (int i = 0; i < kChainCardsMax; ++i) {
    TS_ASSIGN_OR_RETURN(store::Rows orders,
                        store.Query("SELECT card_on_file FROM transit_load_orders"
                                    " WHERE card_serial = ? AND state = 'loaded'"
                                    " AND card_on_file IS NOT NULL"
                                    " ORDER BY updated_unix_ms DESC, order_id DESC LIMIT 1",
                                    {serial}));
    if (!orders.empty()) {
      TS_ASSIGN_OR_RETURN(std::string card, orders[0].GetText("card_on_file"));
      return std::optional<std::string>(std::move(card));
    }
    TS_ASSIGN_OR_RETURN(store::Row card,
                        store.QueryRow("SELECT issue_card_on_file, replaces FROM transit_cards"
                                       " WHERE serial = ?",
                                       {serial}));
    TS_ASSIGN_OR_RETURN(std::optional<std::string> issued,
                        card.GetOptionalText("issue_card_on_file"));
    if (issued.has_value()) return issued;
    TS_ASSIGN_OR_RETURN(std::optional<std::string> replaces, card.GetOptionalText("replaces"));
    if (!replaces.has_value()) break;
    serial = *replaces;
  }
  return std::optional<std::string>();
}

Result<crypto::PurseMac> CardRegistry::BlockMac(std::string_view serial, ByteView challenge) const {
  TS_RETURN_IF_ERROR(CheckSerial(serial));
  if (challenge.size() != crypto::kPurseChallengeBytes) {
    return InvalidArgument("challenge: expected " + std::to_string(crypto::kPurseChallengeBytes) +
                           " bytes");
  }
  TS_RETURN_IF_ERROR(Card(serial).status());
  TS_ASSIGN_OR_RETURN(Serial bytes, SerialBytes(serial));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                      CardKey(*options_.city, options_.keys.maintenance, bytes));
  return crypto::PurseSecureMessagingMac(options_.city->purse_algorithm(), key, challenge,
                                         kApplicationBlockHeader);
}

Result<ClosedCard> CardRegistry::CloseCard(std::string_view serial,
                                           std::uint32_t final_balance_fen) {
  TS_RETURN_IF_ERROR(CheckSerial(serial));
  const CardRules& rules = options_.city->card_rules();
  if (final_balance_fen > rules.balance_cap_fen) {
    return InvalidArgument("final balance " + std::to_string(final_balance_fen) +
                           " fen: above the card cap of " + std::to_string(rules.balance_cap_fen) +
                           " fen");
  }
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(CardRow card, LoadCard(*options_.store, "serial", serial));
  ClosedCard closed;
  closed.serial = card.info.serial;
  closed.balance_refund_fen = rules.refund_on_delete ? final_balance_fen : 0;
  closed.deposit_refund_fen = card.info.deposit_fen;
  closed.refund_fen = closed.balance_refund_fen + closed.deposit_refund_fen;
  if (closed.refund_fen > 0) closed.refund_id = "close-" + card.info.serial;
  if (card.info.status == CardStatus::kClosed) {
    if (card.info.final_balance_fen != final_balance_fen) {
      return FailedPrecondition("card " + card.info.serial +
                                " was closed with a final balance of " +
                                std::to_string(card.info.final_balance_fen.value_or(0)) + " fen");
    }
    return closed;  // the same request again: the same answer
  }
  if (card.info.status != CardStatus::kActive && card.info.status != CardStatus::kLost) {
    return FailedPrecondition("card " + card.info.serial + " is " +
                              std::string(CardStatusName(card.info.status)) +
                              "; only an active or lost card can be closed");
  }
  const std::int64_t now_ms = NowMillis(clock_);
  TS_RETURN_IF_ERROR(options_.store->RunInTransaction([&](store::Store& tx) -> Status {
    TS_RETURN_IF_ERROR(
        tx.Execute("UPDATE transit_cards SET status = ?, final_balance_fen = ?, updated_unix_ms = ?"
                   " WHERE serial = ?",
                   {std::string(CardStatusName(CardStatus::kClosed)), final_balance_fen, now_ms,
                    card.info.serial})
            .status());
    if (closed.refund_fen > 0) {
      const std::string reason = "card deleted: balance " +
                                 std::to_string(closed.balance_refund_fen) + " fen + deposit " +
                                 std::to_string(closed.deposit_refund_fen) + " fen";
      TS_ASSIGN_OR_RETURN(std::optional<std::string> card_on_file,
                          CardOnFileOf(tx, card.info.serial));
      TS_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO transit_refunds (refund_id, account_id, card_serial, amount_fen,"
                     " reason, state, card_on_file, created_unix_ms)"
                     " VALUES (?, ?, ?, ?, ?, 'due', ?, ?)",
                     {closed.refund_id, card.info.account_id, card.info.serial, closed.refund_fen,
                      reason,
                      card_on_file.has_value() ? store::Value(*card_on_file) : store::Value(),
                      now_ms})
              .status());
    }
    return BlacklistLocked(tx, card.info.serial, options_.city->purse_algorithm(), "card closed",
                           now_ms);
  }));
  return closed;
}

Status CardRegistry::ReportLost(std::string_view serial) {
  TS_RETURN_IF_ERROR(CheckSerial(serial));
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(CardRow card, LoadCard(*options_.store, "serial", serial));
  if (card.info.status == CardStatus::kLost) return Status::Ok();
  if (card.info.status != CardStatus::kActive) {
    return FailedPrecondition("card " + card.info.serial + " is " +
                              std::string(CardStatusName(card.info.status)) +
                              "; only an active card can be reported lost");
  }
  const std::int64_t now_ms = NowMillis(clock_);
  return options_.store->RunInTransaction([&](store::Store& tx) -> Status {
    TS_RETURN_IF_ERROR(
        tx.Execute("UPDATE transit_cards SET status = ?, updated_unix_ms = ? WHERE serial = ?",
                   {std::string(CardStatusName(CardStatus::kLost)), now_ms, card.info.serial})
            .status());
    return BlacklistLocked(tx, card.info.serial, options_.city->purse_algorithm(), "phone lost",
                           now_ms);
  });
}

Result<IssuedCard> CardRegistry::MigrateCard(std::string_view old_serial,
                                             const MigrationRequest& request,
                                             std::uint32_t balance_fen) {
  TS_RETURN_IF_ERROR(CheckSerial(old_serial));
  TS_RETURN_IF_ERROR(CheckId("card_id", request.card_id));
  TS_RETURN_IF_ERROR(CheckId("account_id", request.account_id));
  TS_RETURN_IF_ERROR(CheckId("device_id", request.device_id));
  const CardRules& rules = options_.city->card_rules();
  if (balance_fen > rules.balance_cap_fen) {
    return InvalidArgument("balance " + std::to_string(balance_fen) +
                           " fen: above the card cap of " + std::to_string(rules.balance_cap_fen) +
                           " fen");
  }
  std::lock_guard lock(mu_);
  store::Store& store = *options_.store;
  TS_ASSIGN_OR_RETURN(CardRow old_card, LoadCard(store, "serial", old_serial));
  if (old_card.info.account_id != request.account_id) {
    return FailedPrecondition("card " + old_card.info.serial + " belongs to another account");
  }
  Result<CardRow> existing = LoadCard(store, "card_id", request.card_id);
  if (existing.ok()) {
    if (existing->info.replaces != old_card.info.serial ||
        existing->info.device_id != request.device_id ||
        existing->device_public_key != request.device_public_key) {
      return AlreadyExists("card_id " + request.card_id +
                           " is already used for another card or device");
    }
    return Answer(existing->info.serial, request.device_public_key, 0);  // the same migration again
  }
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  if (old_card.info.status != CardStatus::kActive && old_card.info.status != CardStatus::kLost) {
    return FailedPrecondition("card " + old_card.info.serial + " is " +
                              std::string(CardStatusName(old_card.info.status)) +
                              "; only an active or lost card can migrate");
  }
  const std::int64_t now_ms = NowMillis(clock_);
  TS_ASSIGN_OR_RETURN(store::Row recent,
                      store.QueryRow("SELECT COUNT(*) AS n FROM transit_cards WHERE account_id = ?"
                                     " AND replaces IS NOT NULL AND created_unix_ms > ?",
                                     {request.account_id, now_ms - kMigrationWindowMillis}));
  TS_ASSIGN_OR_RETURN(std::int64_t migrations, recent.GetInt64(0));
  if (migrations >= static_cast<std::int64_t>(rules.migrations_per_year)) {
    return FailedPrecondition("account " + request.account_id + " has made " +
                              std::to_string(migrations) + " migrations in the last 365 days; " +
                              options_.city->name() + " allows " +
                              std::to_string(rules.migrations_per_year));
  }
  TS_ASSIGN_OR_RETURN(const std::uint32_t today, LocalDate(now_ms));
  std::string serial;
  TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(serial, NextSerial(tx, options_.city->city_code()));
    TransitCardInfo card;
    card.serial = serial;
    card.card_id = request.card_id;
    card.device_id = request.device_id;
    card.issued_date = today;
    card.expiry_date = AddYears(today, kCardValidityYears);
    card.opening_balance_fen = balance_fen;
    TS_RETURN_IF_ERROR(Personalise(card, request.device_public_key).status());
    TS_RETURN_IF_ERROR(
        tx.Execute(
              "INSERT INTO transit_cards (serial, card_id, account_id, device_id, "
              "device_public_key,"
              " status, opening_fee_fen, deposit_fen, opening_balance_fen, issue_payment_captured,"
              " start_date, expiry_date, replaces, created_unix_ms, updated_unix_ms)"
              " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
              {serial, request.card_id, request.account_id, request.device_id,
               ByteView(request.device_public_key),
               std::string(CardStatusName(CardStatus::kActive)), old_card.info.deposit_fen,
               balance_fen, true, static_cast<std::int64_t>(card.issued_date),
               static_cast<std::int64_t>(card.expiry_date), old_card.info.serial, now_ms, now_ms})
            .status());
    TS_RETURN_IF_ERROR(
        tx.Execute("UPDATE transit_cards SET status = ?, replaced_by = ?, final_balance_fen = ?,"
                   " updated_unix_ms = ? WHERE serial = ?",
                   {std::string(CardStatusName(CardStatus::kMigrated)), serial, balance_fen, now_ms,
                    old_card.info.serial})
            .status());
    return BlacklistLocked(tx, old_card.info.serial, options_.city->purse_algorithm(),
                           "card migrated", now_ms);
  }));
  return Answer(serial, request.device_public_key, 0);
}

Result<BlacklistSnapshot> CardRegistry::Blacklist() const {
  std::lock_guard lock(mu_);
  BlacklistSnapshot snapshot;
  TS_ASSIGN_OR_RETURN(snapshot.version, MetaValue(*options_.store, kBlacklistVersion));
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query(
          "SELECT card_serial, algorithm FROM transit_blacklist ORDER BY card_serial"));
  for (const store::Row& row : rows) {
    BlacklistEntry entry;
    TS_ASSIGN_OR_RETURN(entry.card_serial, row.GetText(0));
    TS_ASSIGN_OR_RETURN(std::int64_t algorithm, row.GetInt64(1));
    entry.algorithm = static_cast<crypto::PurseAlgorithm>(algorithm);
    snapshot.entries.push_back(std::move(entry));
  }
  return snapshot;
}

Status CardRegistry::AddToBlacklist(std::string_view serial, std::string_view reason) {
  TS_RETURN_IF_ERROR(CheckSerial(serial));
  if (reason.empty() || reason.size() > kBlacklistReasonBytesMax) {
    return InvalidArgument("blacklist reason: expected 1-" +
                           std::to_string(kBlacklistReasonBytesMax) + " bytes");
  }
  std::lock_guard lock(mu_);
  const std::int64_t now_ms = NowMillis(clock_);
  return options_.store->RunInTransaction([&](store::Store& tx) {
    return BlacklistLocked(tx, serial, options_.city->purse_algorithm(), reason, now_ms);
  });
}

}  // namespace tapstack::transit
