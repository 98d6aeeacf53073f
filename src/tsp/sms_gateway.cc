#include "tsp/sms_gateway.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "tsp/schema.h"

namespace tapstack::tsp {

namespace {

Status CheckText(std::string_view text) {
  if (text.empty() || text.size() > kSmsTextBytesMax) {
    return InvalidArgument("text: expected 1-" + std::to_string(kSmsTextBytesMax) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

Status CheckE164(std::string_view phone, std::string_view field) {
  const std::string expected = std::string(field) + ": expected E.164 \"+\" and " +
                               std::to_string(kPhoneDigitsMin) + "-" +
                               std::to_string(kPhoneDigitsMax) + " digits, the first not 0";
  if (phone.size() < 1 + kPhoneDigitsMin || phone.size() > 1 + kPhoneDigitsMax ||
      phone[0] != '+') {
    return InvalidArgument(expected);
  }
  const std::string_view digits = phone.substr(1);
  if (!IsAllDigits(digits) || digits[0] == '0') return InvalidArgument(expected);
  return Status::Ok();
}

std::string MaskPhone(std::string_view phone) {
  if (phone.size() < 7) return std::string(phone.size(), '*');
  std::string masked(phone.substr(0, 3));
  masked.append(phone.size() - 7, '*');
  masked.append(phone.substr(phone.size() - 4));
  return masked;
}

Result<std::unique_ptr<OutboxSmsGateway>> OutboxSmsGateway::Open(store::Store& store,
                                                                 const Clock& clock,
                                                                 std::mutex& store_mutex) {
  {
    std::lock_guard lock(store_mutex);
    TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  }
  return std::unique_ptr<OutboxSmsGateway>(new OutboxSmsGateway(store, clock, store_mutex));
}

Status OutboxSmsGateway::Send(std::string_view phone, std::string_view text) {
  std::lock_guard lock(mu_);
  return SendLocked(phone, text);
}

Status OutboxSmsGateway::SendLocked(std::string_view phone, std::string_view text) {
  TS_RETURN_IF_ERROR(CheckE164(phone));
  TS_RETURN_IF_ERROR(CheckText(text));
  // One statement: the next seq and the row together (SQLite's single writer; PostgreSQL's
  // serialisable transaction and the primary key catch a concurrent writer).
  return store_
      .Execute(
          "INSERT INTO tsp_sms_outbox (seq, phone, text, time_unix_ms) "
          "SELECT COALESCE(MAX(seq), 0) + 1, CAST(? AS TEXT), CAST(? AS TEXT), "
          "CAST(? AS BIGINT) FROM tsp_sms_outbox",
          {phone, text, clock_.NowUnixMillis()})
      .status()
      .WithContext("sms outbox");
}

Result<std::vector<SmsOutboxMessage>> OutboxSmsGateway::List(std::string_view phone,
                                                             std::int64_t after,
                                                             std::size_t limit) {
  TS_RETURN_IF_ERROR(CheckE164(phone));
  if (limit == 0 || limit > kSmsOutboxListMax) {
    return InvalidArgument("limit: expected 1-" + std::to_string(kSmsOutboxListMax));
  }
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_.Query("SELECT seq, phone, text, time_unix_ms FROM tsp_sms_outbox "
                   "WHERE phone = ? AND seq > ? ORDER BY seq LIMIT ?",
                   {phone, after, static_cast<std::int64_t>(limit)}));
  std::vector<SmsOutboxMessage> out;
  out.reserve(rows.size());
  for (const store::Row& r : rows) {
    SmsOutboxMessage m;
    TS_ASSIGN_OR_RETURN(m.seq, r.GetInt64(0));
    TS_ASSIGN_OR_RETURN(m.to, r.GetText(1));
    TS_ASSIGN_OR_RETURN(m.text, r.GetText(2));
    TS_ASSIGN_OR_RETURN(m.time_unix_ms, r.GetInt64(3));
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::unique_ptr<WebhookSmsGateway>> WebhookSmsGateway::Create(std::string url,
                                                                     int timeout_ms) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0)) {
    return InvalidArgument("sms_webhook_url: expected http://host[:port]/path");
  }
  const std::size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == scheme_end + 3) {
    return InvalidArgument("sms_webhook_url: expected a host after the scheme");
  }
  std::string base = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (timeout_ms <= 0) return InvalidArgument("sms_webhook_timeout_ms: expected > 0");
  return std::unique_ptr<WebhookSmsGateway>(
      new WebhookSmsGateway(std::move(base), std::move(path), timeout_ms));
}

Status WebhookSmsGateway::Send(std::string_view phone, std::string_view text) {
  TS_RETURN_IF_ERROR(CheckE164(phone));
  TS_RETURN_IF_ERROR(CheckText(text));
  httplib::Client client(scheme_host_port_);
  const auto timeout = std::chrono::milliseconds(timeout_ms_);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const nlohmann::json body = {{"to", phone}, {"text", text}};
  const httplib::Result res = client.Post(path_, body.dump(), "application/json");
  if (!res) {
    return Unavailable("sms webhook: " + httplib::to_string(res.error()));
  }
  if (res->status < 200 || res->status > 299) {
    return Unavailable("sms webhook: HTTP " + std::to_string(res->status));
  }
  return Status::Ok();
}

}  // namespace tapstack::tsp
