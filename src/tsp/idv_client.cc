#include "tsp/idv_client.h"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>

#include "core/hex.h"
#include "iso8583/token_data.h"
#include "tsp/limits.h"
#include "tsp/schema.h"

namespace tapstack::tsp {

namespace {

std::string Digits(std::int64_t value, int width) {
  std::string s = std::to_string(value);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

std::tm UtcTime(std::int64_t unix_ms) {
  const std::time_t seconds = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

bool IsPrintableId(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

IdvResult Unavailable91() {
  return {IdvDecision::kUnavailable, "91", IdvDeclineReason::kIssuerUnavailable};
}

}  // namespace

std::string_view IdvDeclineReasonName(IdvDeclineReason reason) {
  switch (reason) {
    case IdvDeclineReason::kNone: return "";
    case IdvDeclineReason::kCardUnknown: return "card_unknown";
    case IdvDeclineReason::kCardExpired: return "card_expired";
    case IdvDeclineReason::kCvv2Mismatch: return "cvv2_mismatch";
    case IdvDeclineReason::kCardBlocked: return "card_blocked";
    case IdvDeclineReason::kIssuerDeclined: return "issuer_declined";
    case IdvDeclineReason::kIssuerUnavailable: return "issuer_unavailable";
  }
  return "issuer_declined";
}

Result<iso8583::Message> BuildIdvRequest(const IdvRequest& request, std::string_view stan,
                                         const IdvClientOptions& options) {
  if (request.pan == nullptr) return InvalidArgument("pan: required");
  if (request.pan_expiry.size() != 4 || !IsAllDigits(request.pan_expiry)) {
    return InvalidArgument("pan_expiry: expected YYMM");
  }
  const int month = std::stoi(request.pan_expiry.substr(2));
  if (month < 1 || month > 12) return InvalidArgument("pan_expiry: expected YYMM");
  if (request.cvv2.size() != 3 || !IsAllDigits(request.cvv2)) {
    return InvalidArgument("cvv2: expected 3 digits");
  }
  if (request.requestor_id.size() != kTokenRequestorIdDigits ||
      !IsAllDigits(request.requestor_id)) {
    return InvalidArgument("requestor_id: expected 11 digits");
  }
  if (!IsPrintableId(request.device_id, kDeviceIdBytesMax)) {
    return InvalidArgument("device_id: expected 1-64 printable ASCII characters, no spaces");
  }
  if (stan.size() != 6 || !IsAllDigits(stan)) return InvalidArgument("stan: expected 6 digits");
  if (options.clock == nullptr) return InvalidArgument("clock: required");

  const std::tm now = UtcTime(options.clock->NowUnixMillis());
  const std::string mmdd = Digits(now.tm_mon + 1, 2) + Digits(now.tm_mday, 2);
  const std::string hhmmss =
      Digits(now.tm_hour, 2) + Digits(now.tm_min, 2) + Digits(now.tm_sec, 2);

  iso8583::TokenData de48;
  de48.Set(iso8583::token_tag::kCardSecurityCode, request.cvv2);
  de48.Set(iso8583::token_tag::kProvisioningIdv, iso8583::kProvisioningIdvRequested);
  de48.Set(iso8583::token_tag::kRequestorId, request.requestor_id);
  de48.Set(iso8583::token_tag::kDeviceId, request.device_id);
  TS_ASSIGN_OR_RETURN(std::string de48_field, de48.ToField());

  iso8583::Message m("0100");
  m.Set(2, request.pan->reveal());
  m.Set(3, "000000");
  m.Set(4, "000000000000");
  m.Set(7, mmdd + hhmmss);
  m.Set(11, stan);
  m.Set(12, hhmmss);
  m.Set(13, mmdd);
  m.Set(14, request.pan_expiry);
  m.Set(18, kIdvMcc);
  m.Set(22, kIdvPosEntryMode);
  m.Set(25, kIdvPosConditionCode);
  m.Set(32, options.acquirer_id);
  m.Set(41, options.terminal_id);
  m.Set(42, options.card_acceptor);
  m.Set(iso8583::kTokenDataField, de48_field);
  m.Set(49, options.currency_numeric);
  SecureWipe(de48_field.data(), de48_field.size());
  return m;
}

IdvResult ParseIdvResponse(const Result<iso8583::Message>& response, std::string_view stan) {
  if (!response.ok()) return Unavailable91();
  const iso8583::Message& m = *response;
  if (m.mti() != "0110" || m.Get(11).value_or("") != stan) return Unavailable91();
  const std::optional<std::string_view> de39 = m.Get(39);
  if (!de39) return Unavailable91();
  const std::string code(*de39);
  std::optional<std::string> iv;
  if (const std::optional<std::string_view> field = m.Get(iso8583::kTokenDataField)) {
    Result<iso8583::TokenData> parsed = iso8583::TokenData::Parse(*field);
    if (parsed.ok()) {
      if (auto v = parsed->Get(iso8583::token_tag::kIdvResult)) iv = std::string(*v);
    }
  }
  if (code == "85" || code == "00") {
    if (iv == "G") return {IdvDecision::kGreen, code, IdvDeclineReason::kNone};
    return {IdvDecision::kYellow, code, IdvDeclineReason::kNone};
  }
  if (code == "91") return Unavailable91();
  IdvDeclineReason reason = IdvDeclineReason::kIssuerDeclined;
  if (code == "14") reason = IdvDeclineReason::kCardUnknown;
  if (code == "54") reason = IdvDeclineReason::kCardExpired;
  if (code == "N7") reason = IdvDeclineReason::kCvv2Mismatch;
  if (code == "62" || code == "41" || code == "43") reason = IdvDeclineReason::kCardBlocked;
  return {IdvDecision::kRed, code, reason};
}

Result<std::unique_ptr<IdvClient>> IdvClient::Create(link::RequestSender& link,
                                                     IdvClientOptions options) {
  if (options.clock == nullptr) return InvalidArgument("clock: required");
  if (options.timeout_ms <= 0) return InvalidArgument("idv_timeout_ms: expected > 0");
  if (options.terminal_id.size() != 8) return InvalidArgument("terminal_id: expected 8 characters");
  if (options.card_acceptor.size() != 15) {
    return InvalidArgument("card_acceptor: expected 15 characters");
  }
  if (options.acquirer_id.empty() || options.acquirer_id.size() > 11 ||
      !IsAllDigits(options.acquirer_id)) {
    return InvalidArgument("acquirer_id: expected 1-11 digits");
  }
  return std::unique_ptr<IdvClient>(new IdvClient(link, std::move(options)));
}

Result<IdvResult> IdvClient::Verify(const IdvRequest& request, std::string_view stan) {
  TS_ASSIGN_OR_RETURN(iso8583::Message message, BuildIdvRequest(request, stan, options_));
  // The callback may run after a timeout (or never): it owns its share of the state.
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<iso8583::Message>> response;
  };
  auto pending = std::make_shared<Pending>();
  link_.Send(std::move(message), [pending](Result<iso8583::Message> response) {
    std::lock_guard lock(pending->mu);
    if (!pending->response) pending->response.emplace(std::move(response));
    pending->cv.notify_all();
  });
  std::unique_lock lock(pending->mu);
  if (!pending->cv.wait_for(lock, std::chrono::milliseconds(options_.timeout_ms),
                            [&] { return pending->response.has_value(); })) {
    return Unavailable91();
  }
  return ParseIdvResponse(*pending->response, stan);
}

Result<std::unique_ptr<IdvStanCounter>> IdvStanCounter::Open(store::Store& store,
                                                             const Clock& clock) {
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  return std::unique_ptr<IdvStanCounter>(new IdvStanCounter(store, clock));
}

Result<std::string> IdvStanCounter::Next() {
  const std::tm now = UtcTime(clock_.NowUnixMillis());
  const std::string day =
      Digits(now.tm_year + 1900, 4) + Digits(now.tm_mon + 1, 2) + Digits(now.tm_mday, 2);
  if (day == day_ && next_ <= last_) return Digits(next_++, 6);
  std::int64_t first = 0;
  std::int64_t last = 0;
  Status s = store_.RunInTransaction([&](store::Store& tx) -> Status {
    Result<store::Row> row = tx.QueryRow("SELECT day, last_stan FROM tsp_idv_stan WHERE id = 1");
    if (!row.ok() && row.status().code() != ErrorCode::kNotFound) return row.status();
    first = 1;
    if (row.ok()) {
      TS_ASSIGN_OR_RETURN(const std::string last_day, row->GetText(0));
      TS_ASSIGN_OR_RETURN(const std::int64_t stored, row->GetInt64(1));
      if (last_day == day) first = stored + 1;
    }
    if (first > kIdvStansPerDayMax) {
      return OutOfRange("idv stan: " + std::to_string(kIdvStansPerDayMax) +
                        " requests today already");
    }
    last = std::min(first + kIdvStanBlockStans - 1, kIdvStansPerDayMax);
    return tx
        .Execute(
            "INSERT INTO tsp_idv_stan (id, day, last_stan) VALUES (1, ?, ?) ON CONFLICT (id) DO "
            "UPDATE SET day = excluded.day, last_stan = excluded.last_stan",
            {day, last})
        .status();
  });
  if (!s.ok()) return s;
  day_ = day;
  next_ = first + 1;
  last_ = last;
  return Digits(first, 6);
}

}  // namespace tapstack::tsp
