#include "tsp/token_notifications.h"

#include <spdlog/spdlog.h>

#include "tsp/schema.h"

namespace tapstack::tsp {

Result<std::unique_ptr<TokenNotifications>> TokenNotifications::Open(store::Store& store,
                                                                     TokenEventListener* next) {
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  return std::unique_ptr<TokenNotifications>(new TokenNotifications(store, next));
}

Status TokenNotifications::Append(const TokenEvent& event) {
  return store_
      .Execute(
          "INSERT INTO tsp_notifications (seq, requestor_id, token_id, device_id, event, "
          "from_state, to_state, initiator, time_unix_ms, audit_seq) "
          "SELECT COALESCE(MAX(seq), 0) + 1, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
          "CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
          "CAST(? AS BIGINT), CAST(? AS BIGINT) FROM tsp_notifications",
          {event.requestor_id, event.token_id, event.device_id,
           LifecycleActionName(event.action), TokenStateName(event.from),
           TokenStateName(event.to), InitiatorKindName(event.initiator.kind),
           event.time_unix_ms, event.audit_seq})
      .status()
      .WithContext("token notifications");
}

void TokenNotifications::OnTokenEvent(const TokenEvent& event) {
  const Status s = Append(event);
  if (!s.ok()) {
    spdlog::error("tsp notifications: event of token {} not recorded: {}", event.token_id,
                  s.ToString());
  }
  if (next_ != nullptr) next_->OnTokenEvent(event);
}

Result<std::vector<TokenNotification>> TokenNotifications::List(std::string_view requestor_id,
                                                                std::int64_t after,
                                                                std::size_t limit) {
  if (limit == 0 || limit > kNotificationsListMax) {
    return InvalidArgument("limit: expected 1-" + std::to_string(kNotificationsListMax));
  }
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      store_.Query("SELECT seq, requestor_id, token_id, device_id, event, from_state, to_state, "
                   "initiator, time_unix_ms FROM tsp_notifications WHERE requestor_id = ? AND "
                   "seq > ? ORDER BY seq LIMIT ?",
                   {requestor_id, after, static_cast<std::int64_t>(limit)}));
  std::vector<TokenNotification> out;
  out.reserve(rows.size());
  for (const store::Row& r : rows) {
    TokenNotification n;
    TS_ASSIGN_OR_RETURN(n.seq, r.GetInt64(0));
    TS_ASSIGN_OR_RETURN(n.requestor_id, r.GetText(1));
    TS_ASSIGN_OR_RETURN(n.token_id, r.GetText(2));
    TS_ASSIGN_OR_RETURN(n.device_id, r.GetText(3));
    TS_ASSIGN_OR_RETURN(n.event, r.GetText(4));
    TS_ASSIGN_OR_RETURN(n.from, r.GetText(5));
    TS_ASSIGN_OR_RETURN(n.to, r.GetText(6));
    TS_ASSIGN_OR_RETURN(n.initiator, r.GetText(7));
    TS_ASSIGN_OR_RETURN(n.time_unix_ms, r.GetInt64(8));
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace tapstack::tsp
