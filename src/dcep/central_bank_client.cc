#include "dcep/central_bank_client.h"

#include <algorithm>
#include <initializer_list>

namespace tapstack::dcep {

namespace {

using nlohmann::json;

Status CheckMembers(const json& j, std::initializer_list<std::string_view> members) {
  if (!j.is_object()) return InvalidArgument("body: expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(members.begin(), members.end(), key) == members.end()) {
      return InvalidArgument(key + ": unknown member");
    }
  }
  for (std::string_view m : members) {
    if (!j.contains(m)) return InvalidArgument(std::string(m) + ": required");
  }
  return Status::Ok();
}

Result<std::string> Str(const json& j, const char* name) {
  if (!j.at(name).is_string()) return InvalidArgument(std::string(name) + ": expected a string");
  return j.at(name).get<std::string>();
}

Result<std::int64_t> Int(const json& j, const char* name) {
  if (!j.at(name).is_number_integer()) {
    return InvalidArgument(std::string(name) + ": expected an integer");
  }
  return j.at(name).get<std::int64_t>();
}

json ErrorJson(const Status& s) {
  return {{"error", ErrorCodeName(s.code())}, {"message", s.message()}};
}

}  // namespace

bool IsTransient(const Status& s) {
  return s.code() == ErrorCode::kUnavailable || s.code() == ErrorCode::kIoError ||
         s.code() == ErrorCode::kInternal;
}

json ToJson(const IssueRequest& r) {
  return {{"operator_id", r.operator_id},
          {"amount_fen", r.amount_fen},
          {"idempotency_key", r.idempotency_key}};
}
json ToJson(const SettleRequest& r) {
  return {{"from_operator", r.from_operator},
          {"to_operator", r.to_operator},
          {"amount_fen", r.amount_fen},
          {"idempotency_key", r.idempotency_key}};
}
json ToJson(const Movement& m) {
  return {{"transfer_id", m.transfer_id},
          {"amount_fen", m.amount_fen},
          {"position_fen", m.position_fen},
          {"replayed", m.replayed}};
}
json ToJson(const OperatorPosition& p) {
  return {{"operator_id", p.operator_id},
          {"position_fen", p.position_fen},
          {"reserve_fen", p.reserve_fen}};
}

Result<IssueRequest> IssueRequestFromJson(const json& j) {
  TS_RETURN_IF_ERROR(CheckMembers(j, {"operator_id", "amount_fen", "idempotency_key"}));
  IssueRequest r;
  TS_ASSIGN_OR_RETURN(r.operator_id, Str(j, "operator_id"));
  TS_ASSIGN_OR_RETURN(r.amount_fen, Int(j, "amount_fen"));
  TS_ASSIGN_OR_RETURN(r.idempotency_key, Str(j, "idempotency_key"));
  return r;
}

Result<SettleRequest> SettleRequestFromJson(const json& j) {
  TS_RETURN_IF_ERROR(
      CheckMembers(j, {"from_operator", "to_operator", "amount_fen", "idempotency_key"}));
  SettleRequest r;
  TS_ASSIGN_OR_RETURN(r.from_operator, Str(j, "from_operator"));
  TS_ASSIGN_OR_RETURN(r.to_operator, Str(j, "to_operator"));
  TS_ASSIGN_OR_RETURN(r.amount_fen, Int(j, "amount_fen"));
  TS_ASSIGN_OR_RETURN(r.idempotency_key, Str(j, "idempotency_key"));
  return r;
}

Result<Movement> MovementFromJson(const json& j) {
  TS_RETURN_IF_ERROR(CheckMembers(j, {"transfer_id", "amount_fen", "position_fen", "replayed"}));
  Movement m;
  TS_ASSIGN_OR_RETURN(m.transfer_id, Str(j, "transfer_id"));
  TS_ASSIGN_OR_RETURN(m.amount_fen, Int(j, "amount_fen"));
  TS_ASSIGN_OR_RETURN(m.position_fen, Int(j, "position_fen"));
  if (!j.at("replayed").is_boolean()) return InvalidArgument("replayed: expected a boolean");
  m.replayed = j.at("replayed").get<bool>();
  return m;
}

Result<OperatorPosition> PositionFromJson(const json& j) {
  TS_RETURN_IF_ERROR(CheckMembers(j, {"operator_id", "position_fen", "reserve_fen"}));
  OperatorPosition p;
  TS_ASSIGN_OR_RETURN(p.operator_id, Str(j, "operator_id"));
  TS_ASSIGN_OR_RETURN(p.position_fen, Int(j, "position_fen"));
  TS_ASSIGN_OR_RETURN(p.reserve_fen, Int(j, "reserve_fen"));
  return p;
}

std::string HandleCentralBankJson(CentralBank& bank, std::string_view method,
                                  std::string_view body) {
  const json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) {
    return ErrorJson(InvalidArgument("body: expected a JSON object")).dump();
  }
  auto movement = [](const Result<Movement>& m) {
    return m.ok() ? ToJson(*m).dump() : ErrorJson(m.status()).dump();
  };
  if (method == "issue" || method == "redeem") {
    Result<IssueRequest> r = IssueRequestFromJson(request);
    if (!r.ok()) return ErrorJson(r.status()).dump();
    return movement(method == "issue"
                        ? bank.Issue(r->operator_id, r->amount_fen, r->idempotency_key)
                        : bank.Redeem(r->operator_id, r->amount_fen, r->idempotency_key));
  }
  if (method == "settle" || method == "reverse_settlement") {
    Result<SettleRequest> r = SettleRequestFromJson(request);
    if (!r.ok()) return ErrorJson(r.status()).dump();
    return movement(method == "settle"
                        ? bank.Settle(r->from_operator, r->to_operator, r->amount_fen,
                                      r->idempotency_key)
                        : bank.ReverseSettlement(r->from_operator, r->to_operator, r->amount_fen,
                                                 r->idempotency_key));
  }
  if (method == "position") {
    if (Status s = CheckMembers(request, {"operator_id"}); !s.ok()) return ErrorJson(s).dump();
    if (!request.at("operator_id").is_string()) {
      return ErrorJson(InvalidArgument("operator_id: expected a string")).dump();
    }
    Result<OperatorPosition> p = bank.Position(request.at("operator_id").get<std::string>());
    return p.ok() ? ToJson(*p).dump() : ErrorJson(p.status()).dump();
  }
  return ErrorJson(NotFound("method: \"" + std::string(method) + "\" is not a central bank method"))
      .dump();
}

Result<json> InProcessCentralBankClient::Call(std::string_view method, const json& request) {
  const std::string answer = HandleCentralBankJson(bank_, method, request.dump());
  json reply = json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return Internal("central bank: answer is not a JSON object");
  }
  if (reply.contains("error")) {
    const ErrorCode code = ErrorCodeFromName(reply.value("error", std::string()));
    return Status(code == ErrorCode::kOk ? ErrorCode::kInternal : code,
                  reply.value("message", std::string()));
  }
  return reply;
}

Result<Movement> InProcessCentralBankClient::Issue(const IssueRequest& request) {
  TS_ASSIGN_OR_RETURN(const json reply, Call("issue", ToJson(request)));
  return MovementFromJson(reply);
}
Result<Movement> InProcessCentralBankClient::Redeem(const IssueRequest& request) {
  TS_ASSIGN_OR_RETURN(const json reply, Call("redeem", ToJson(request)));
  return MovementFromJson(reply);
}
Result<Movement> InProcessCentralBankClient::Settle(const SettleRequest& request) {
  TS_ASSIGN_OR_RETURN(const json reply, Call("settle", ToJson(request)));
  return MovementFromJson(reply);
}
Result<Movement> InProcessCentralBankClient::ReverseSettlement(const SettleRequest& request) {
  TS_ASSIGN_OR_RETURN(const json reply, Call("reverse_settlement", ToJson(request)));
  return MovementFromJson(reply);
}
Result<OperatorPosition> InProcessCentralBankClient::Position(std::string_view operator_id) {
  TS_ASSIGN_OR_RETURN(const json reply,
                      Call("position", json{{"operator_id", std::string(operator_id)}}));
  return PositionFromJson(reply);
}

}  // namespace tapstack::dcep
