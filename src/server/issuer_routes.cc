#include "server/issuer_routes.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/pan.h"

namespace tapstack::server {

void InstallIssuerRoutes(HttpFront& http, issuer::IssuerHost& host, const demo::DemoNetwork& demo) {
  http.routes().Get("/v1/issuer/stats", [&host](const httplib::Request&, httplib::Response& res) {
    const issuer::IssuerStats& s = host.stats();
    ReplyJson(res, {{"requests", s.requests.load()},
                    {"approved", s.approved.load()},
                    {"declined", s.declined.load()},
                    {"batches", s.batches.load()},
                    {"cards", host.card_count()}});
  });
  http.routes().Get("/v1/issuer/authorizations", [&host](const httplib::Request& req,
                                                         httplib::Response& res) {
    std::string fields[5];
    const char* names[5] = {"institution_id", "acquirer_id", "terminal_id", "stan",
                            "transmission_time"};
    for (int i = 0; i < 5; ++i) {
      if (!req.has_param(names[i])) {
        return ReplyError(res, InvalidArgument(std::string("query parameter '") + names[i] +
                                               "' is required"));
      }
      fields[i] = req.get_param_value(names[i]);
    }
    auto found = host.FindAuthorization(fields[0], fields[1], fields[2], fields[3], fields[4]);
    if (!found.ok()) return ReplyError(res, found.status());
    ReplyJson(res, {{"state", issuer::AuthorizationStateName(found->state)},
                    {"amount_minor", found->amount_minor},
                    {"posted_minor", found->posted_minor},
                    {"stand_in", found->stand_in}});
  });
  http.routes().Get("/v1/issuer/audit", [&host](const httplib::Request&, httplib::Response& res) {
    ledger::AuditReport report;
    Status audit = host.ledger().Audit(&report);
    nlohmann::json ledgers = nlohmann::json::array();
    for (const ledger::LedgerTotals& t : report.ledgers) {
      ledgers.push_back({{"ledger", t.ledger},
                         {"accounts", t.accounts},
                         {"transfers", t.transfers},
                         {"holds_pending", t.holds_pending},
                         {"debits_posted", t.debits_posted.ToDecimal()},
                         {"credits_posted", t.credits_posted.ToDecimal()},
                         {"debits_pending", t.debits_pending.ToDecimal()},
                         {"credits_pending", t.credits_pending.ToDecimal()}});
    }
    ReplyJson(res,
              {{"ok", audit.ok()},
               {"message", audit.ok() ? "" : audit.ToString()},
               {"ledgers", ledgers},
               {"accounts", report.accounts},
               {"transfers", report.transfers}},
              audit.ok() ? 200 : 409);
  });
  http.routes().Post("/v1/issuer/cards/balance", [&host, &demo](const httplib::Request& req,
                                                        httplib::Response& res) {
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("pan") || !body["pan"].is_string()) {
      return ReplyError(res, InvalidArgument("pan: expected a JSON string of 12-19 digits"));
    }
    Result<Pan> pan = Pan::Parse(body["pan"].get<std::string>());
    if (!pan.ok()) return ReplyError(res, InvalidArgument("pan: " + pan.status().message()));
    const demo::DemoBank* bank = demo.BankForPan(pan->reveal());
    if (bank == nullptr) return ReplyError(res, NotFound("pan: no bank issues this card number"));
    Result<std::int64_t> available = host.AvailableMinor(bank->institution_id, pan->reveal());
    if (!available.ok()) return ReplyError(res, available.status());
    ReplyJson(res, {{"masked_pan", pan->Masked()},
                    {"institution_id", bank->institution_id},
                    {"available_minor", *available},
                    {"currency", bank->currency->alpha}});
  });
}

}  // namespace tapstack::server
