#include "network/qr_clearing.h"

#include <array>
#include <optional>
#include <span>

#include "core/amount.h"
#include "core/hex.h"
#include "store/migration.h"

namespace tapstack::network {
namespace {

constexpr std::size_t kPlatformIdBytesMax = 16;

const std::array<store::Migration, 1>& Migrations() {
  static const std::array<store::Migration, 1> migrations = {store::Migration{
      1, "create qr clearing",
      "CREATE TABLE qr_clearing_payments ("
      " clearing_id TEXT PRIMARY KEY,"
      " request TEXT NOT NULL,"  // the message as received (canonical JSON), for repeats
      " payer_platform TEXT NOT NULL,"
      " payee_platform TEXT NOT NULL,"
      " currency TEXT NOT NULL,"
      " amount_minor BIGINT NOT NULL,"
      " status TEXT NOT NULL,"  // approved | declined
      " answer TEXT NOT NULL,"
      " answered_unix_ms BIGINT NOT NULL,"
      " settlement_id BIGINT);"
      "CREATE INDEX qr_clearing_open ON qr_clearing_payments (settlement_id, status);"
      "CREATE TABLE qr_clearing_settlements ("
      " settlement_id BIGINT PRIMARY KEY,"
      " business_date TEXT NOT NULL,"
      " closed_unix_ms BIGINT NOT NULL);",
      "", ""}};
  return migrations;
}

Status CheckPlatformId(std::string_view field, std::string_view id) {
  bool ok = !id.empty() && id.size() <= kPlatformIdBytesMax;
  for (char c : id) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) return InvalidArgument(std::string(field) + ": expected 1-16 of a-z 0-9 -");
  return Status::Ok();
}

Result<std::string> TextMember(const nlohmann::json& request, const char* name,
                               std::size_t max_bytes) {
  const auto it = request.find(name);
  if (it == request.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > max_bytes) {
    return InvalidArgument(std::string(name) + ": expected a string of 1-" +
                           std::to_string(max_bytes) + " bytes");
  }
  return it->get<std::string>();
}

Result<Amount> AmountMember(const nlohmann::json& request, const char* name) {
  const auto it = request.find(name);
  if (it == request.end() || !it->is_object() || !it->contains("minor") ||
      !(*it)["minor"].is_number_integer() || !it->contains("currency") ||
      !(*it)["currency"].is_string()) {
    return InvalidArgument(std::string(name) +
                           ": expected {\"minor\": integer, \"currency\": ISO 4217 alpha}");
  }
  auto currency = CurrencyByAlpha((*it)["currency"].get<std::string>());
  if (!currency.ok()) return InvalidArgument(std::string(name) + ".currency: " + currency.status().message());
  const std::int64_t minor = (*it)["minor"].get<std::int64_t>();
  if (minor <= 0) return InvalidArgument(std::string(name) + ".minor: expected more than zero");
  return Amount(minor, **currency);
}

// An answer as recorded (answer.dump() of an object): corruption of the stored row is kCorruption,
// never an exception.
Result<nlohmann::json> StoredAnswer(const std::string& clearing_id, const std::string& text) {
  nlohmann::json answer = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    return Corruption("qr_clearing_payments " + clearing_id + ": stored answer is not a JSON object");
  }
  return answer;
}

bool IsDate(std::string_view d) {
  return d.size() == 10 && d[4] == '-' && d[7] == '-' && IsAllDigits(d.substr(0, 4)) &&
         IsAllDigits(d.substr(5, 2)) && IsAllDigits(d.substr(8, 2));
}

}  // namespace

Result<std::unique_ptr<QrClearing>> QrClearing::Open(store::Store& store, const Clock* clock) {
  TS_RETURN_IF_ERROR(store::ApplyMigrations(store, Migrations()));
  return std::unique_ptr<QrClearing>(
      new QrClearing(store, clock != nullptr ? *clock : SystemClock::Instance()));
}

Status QrClearing::RegisterPlatform(const std::string& platform_id, PlatformHandler handler) {
  TS_RETURN_IF_ERROR(CheckPlatformId("platform_id", platform_id));
  if (!handler) return InvalidArgument("handler: required");
  std::lock_guard lock(mu_);
  platforms_[platform_id] = std::move(handler);
  return Status::Ok();
}

Result<nlohmann::json> QrClearing::Handle(const nlohmann::json& request) {
  if (!request.is_object()) return InvalidArgument("request: expected a JSON object");
  // Members are type-checked before they are read: json::value() throws on a member of another
  // type ("type": 5), and a malformed message must be a kInvalidArgument naming it.
  const auto type = request.find("type");
  if (type == request.end() || !type->is_string() ||
      type->get_ref<const std::string&>() != "qr_payment") {
    return InvalidArgument("type: expected \"qr_payment\"");
  }
  TS_ASSIGN_OR_RETURN(std::string clearing_id, TextMember(request, "clearing_id", kClearingIdBytesMax));
  TS_ASSIGN_OR_RETURN(std::string payer, TextMember(request, "payer_platform", kPlatformIdBytesMax));
  TS_ASSIGN_OR_RETURN(std::string payee, TextMember(request, "payee_platform", kPlatformIdBytesMax));
  TS_RETURN_IF_ERROR(TextMember(request, "payload", kClearingPayloadBytesMax).status());
  TS_ASSIGN_OR_RETURN(Amount amount, AmountMember(request, "amount"));
  TS_RETURN_IF_ERROR(AmountMember(request, "payer_amount").status());
  if (payer == payee) return InvalidArgument("payee_platform: the payer's own platform clears nothing");
  const std::string canonical = request.dump();

  PlatformHandler forward;
  {
    std::lock_guard lock(mu_);
    for (const std::string* id : {&payer, &payee}) {
      if (!platforms_.contains(*id)) return NotFound("platform " + *id + ": not registered");
    }
    forward = platforms_[payee];
    auto seen = store_.Query(
        "SELECT request, answer FROM qr_clearing_payments WHERE clearing_id = ?", {clearing_id});
    TS_RETURN_IF_ERROR(seen.status());
    if (!seen->empty()) {
      TS_ASSIGN_OR_RETURN(std::string first, (*seen)[0].GetText(0));
      if (first != canonical) {
        return AlreadyExists("clearing_id " + clearing_id + ": already used for another payment");
      }
      TS_ASSIGN_OR_RETURN(std::string answer, (*seen)[0].GetText(1));
      return StoredAnswer(clearing_id, answer);
    }
  }

  TS_ASSIGN_OR_RETURN(nlohmann::json answer, forward(request));
  std::string status;
  if (answer.is_object()) {
    if (const auto it = answer.find("status"); it != answer.end() && it->is_string()) {
      status = it->get<std::string>();
    }
  }
  if (status != "approved" && status != "declined") {
    return Unavailable("platform " + payee + ": answered without \"status\" approved or declined");
  }
  answer["clearing_id"] = clearing_id;

  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(store_.RunInTransaction([&](store::Store& tx) -> Status {
    return tx
        .Execute(
            "INSERT INTO qr_clearing_payments (clearing_id, request, payer_platform, payee_platform,"
            " currency, amount_minor, status, answer, answered_unix_ms) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (clearing_id) DO NOTHING",
            {clearing_id, canonical, payer, payee, std::string(amount.currency().alpha),
             amount.minor_units(), status, answer.dump(), clock_.NowUnixMillis()})
        .status();
  }));
  // A concurrent repeat may have recorded first: what is on disk is the answer.
  TS_ASSIGN_OR_RETURN(store::Row row,
                      store_.QueryRow("SELECT answer FROM qr_clearing_payments WHERE clearing_id = ?",
                                      {clearing_id}));
  TS_ASSIGN_OR_RETURN(std::string recorded, row.GetText(0));
  return StoredAnswer(clearing_id, recorded);
}

namespace {

// Net positions of the approved payments of one settlement (open ones: none).
Result<std::vector<ClearingPosition>> LoadPositions(store::Store& store,
                                                    std::optional<std::int64_t> settlement_id) {
  const std::string where = std::string(" WHERE status = 'approved' AND settlement_id ") +
                            (settlement_id ? "= ?" : "IS NULL");
  std::vector<store::Value> params;
  if (settlement_id) params = {*settlement_id, *settlement_id};
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store.Query("SELECT platform, currency, SUM(delta), COUNT(*) FROM ("
                  " SELECT payee_platform AS platform, currency, amount_minor AS delta"
                  " FROM qr_clearing_payments" + where +
                  " UNION ALL"
                  " SELECT payer_platform AS platform, currency, -amount_minor AS delta"
                  " FROM qr_clearing_payments" + where +
                  ") sides GROUP BY platform, currency ORDER BY platform, currency",
                  std::span<const store::Value>(params)));
  std::vector<ClearingPosition> positions;
  for (const store::Row& row : rows) {
    ClearingPosition p;
    TS_ASSIGN_OR_RETURN(p.platform_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(p.currency, row.GetText(1));
    TS_ASSIGN_OR_RETURN(p.net_minor, row.GetInt64(2));
    TS_ASSIGN_OR_RETURN(p.payments, row.GetInt64(3));
    positions.push_back(std::move(p));
  }
  return positions;
}

}  // namespace

Result<std::vector<ClearingPosition>> QrClearing::Positions() {
  std::lock_guard lock(mu_);
  return LoadPositions(store_, std::nullopt);
}

Result<ClearingSettlement> QrClearing::CutOff(const std::string& business_date) {
  if (!IsDate(business_date)) return InvalidArgument("business_date: expected YYYY-MM-DD");
  std::lock_guard lock(mu_);
  ClearingSettlement settlement;
  settlement.business_date = business_date;
  TS_RETURN_IF_ERROR(store_.RunInTransaction([&](store::Store& tx) -> Status {
    TS_ASSIGN_OR_RETURN(store::Row last, tx.QueryRow("SELECT COALESCE(MAX(settlement_id), 0)"
                                                     " FROM qr_clearing_settlements"));
    TS_ASSIGN_OR_RETURN(std::int64_t previous, last.GetInt64(0));
    settlement.settlement_id = previous + 1;
    TS_RETURN_IF_ERROR(tx.Execute("INSERT INTO qr_clearing_settlements (settlement_id,"
                                  " business_date, closed_unix_ms) VALUES (?,?,?)",
                                  {settlement.settlement_id, business_date, clock_.NowUnixMillis()})
                           .status());
    return tx
        .Execute("UPDATE qr_clearing_payments SET settlement_id = ? WHERE settlement_id IS NULL",
                 {settlement.settlement_id})
        .status();
  }));
  TS_ASSIGN_OR_RETURN(settlement.positions,
                      LoadPositions(store_, settlement.settlement_id));
  return settlement;
}

}  // namespace tapstack::network
