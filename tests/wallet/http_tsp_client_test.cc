// HttpTspClient against a small httplib::Server serving canned contract JSON: the bearer key, the
// request bodies, answers parsed into typed results, TSP errors mapped to Status.
#include "wallet/http_tsp_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace tapstack::wallet {
namespace {

using nlohmann::json;

constexpr const char* kApiKey = "demo-wallet-requestor-key-NOT-A-SECRET";

json TokenJson(const std::string& id, const std::string& state) {
  return {{"token_id", id},         {"token_last4", "0017"},
          {"token_expiry", "3012"}, {"masked_pan", "622202******0011"},
          {"par", "Q1J4AAA"},       {"state", state},
          {"device_id", "phone-1"}, {"requestor_id", "40010000001"},
          {"storage", "se"}};
}

class HttpTspClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto authed = [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != std::string("Bearer ") + kApiKey) {
        res.status = 401;
        res.set_content(R"({"error":"unauthenticated","message":"bad key"})", "application/json");
        return false;
      }
      last_body_ = req.body;
      return true;
    };
    server_.Post("/v1/tsp/provisionings",
                 [authed](const httplib::Request& req, httplib::Response& res) {
                   if (!authed(req, res)) return;
                   json answer = {{"decision", "step_up"},
                                  {"response_code", "85"},
                                  {"token", TokenJson("tok-7", "inactive")},
                                  {"otp",
                                   {{"sent_to", "+86*******8000"},
                                    {"expires_unix_ms", 1767225900000},
                                    {"attempts_left", 5}}}};
                   res.set_content(answer.dump(), "application/json");
                 });
    server_.Post("/v1/tsp/tokens/tok-7/otp", [authed](const httplib::Request& req,
                                                            httplib::Response& res) {
      if (!authed(req, res)) return;
      res.status = 422;
      res.set_content(
          R"({"error":"otp_mismatch","message":"wrong code","field":"otp","attempts_left":3})",
          "application/json");
    });
    server_.Post("/v1/tsp/tokens/tok-7/suspend", [authed](const httplib::Request& req,
                                                                httplib::Response& res) {
      if (!authed(req, res)) return;
      res.status = 409;
      res.set_content(R"({"error":"failed_precondition","message":"token is inactive"})",
                      "application/json");
    });
    server_.Post("/v1/tsp/tokens/tok-8/delete", [authed](const httplib::Request& req,
                                                               httplib::Response& res) {
      if (!authed(req, res)) return;
      res.set_content(json{{"token", TokenJson("tok-8", "deleted")}}.dump(), "application/json");
    });
    server_.Get("/v1/tsp/tokens/tok-9", [authed](const httplib::Request& req,
                                                       httplib::Response& res) {
      if (!authed(req, res)) return;
      res.status = 404;
      res.set_content(R"({"error":"not_found","message":"no such token"})", "application/json");
    });
    server_.Get("/v1/tsp/tokens/tok-8/transactions",
                [this, authed](const httplib::Request& req, httplib::Response& res) {
                  if (!authed(req, res)) return;
                  limit_param_ = req.get_param_value("limit");
                  json tx = {{"time_unix_ms", 1767225600000},
                             {"amount_minor", 1250},
                             {"currency", "CNY"},
                             {"merchant", "Demo Coffee"},
                             {"mcc", "5812"},
                             {"approved", true},
                             {"response_code", "00"},
                             {"approval_code", "A1B2C3"},
                             {"stan", "000123"},
                             {"channel", "contactless"}};
                  res.set_content(json{{"transactions", {tx}}}.dump(), "application/json");
                });
    server_.Get("/v1/tsp/notifications",
                [this, authed](const httplib::Request& req, httplib::Response& res) {
                  if (!authed(req, res)) return;
                  after_param_ = req.get_param_value("after");
                  json n = {{"seq", 12},
                            {"token_id", "tok-8"},
                            {"device_id", "phone-1"},
                            {"event", "suspend"},
                            {"from", "active"},
                            {"to", "suspended"},
                            {"initiator", "issuer"},
                            {"time_unix_ms", 1767225600000}};
                  res.set_content(json{{"notifications", {n}}}.dump(), "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto client = HttpTspClient::Create({.base_url = Url(), .api_key = kApiKey});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<HttpTspClient> client_;
  std::string last_body_;
  std::string limit_param_;
  std::string after_param_;
};

TEST_F(HttpTspClientTest, ProvisionSendsTheContractBodyAndParsesAStepUp) {
  ProvisioningRequest request{.requestor_id = "40010000001",
                              .device_id = "phone-1",
                              .device_public_key = "04AB",
                              .storage = "se",
                              .pan = *Pan::Parse("4111111111111111"),
                              .pan_expiry = "2812",
                              .cvv2 = "123",
                              .holder_name = "LI LEI",
                              .phone = "+8613800138000"};
  auto r = client_->Provision(request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->decision, ProvisioningDecision::kStepUp);
  EXPECT_EQ(r->response_code, "85");
  ASSERT_TRUE(r->token.has_value());
  EXPECT_EQ(r->token->token_id, "tok-7");
  EXPECT_EQ(r->token->state, "inactive");
  ASSERT_TRUE(r->otp.has_value());
  EXPECT_EQ(r->otp->attempts_left, 5);
  EXPECT_EQ(r->otp->expires_unix_ms, 1767225900000);
  json sent = json::parse(last_body_);
  EXPECT_EQ(sent["pan"], "4111111111111111");
  EXPECT_EQ(sent["pan_expiry"], "2812");
  EXPECT_EQ(sent["requestor_id"], "40010000001");
  EXPECT_EQ(sent["phone"], "+8613800138000");
  EXPECT_EQ(sent["device_public_key"], "04AB");
}

TEST_F(HttpTspClientTest, OtpMismatchIsAResultWithAttemptsLeft) {
  auto r = client_->VerifyOtp("tok-7", "000000");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, OtpOutcome::kMismatch);
  EXPECT_EQ(r->attempts_left, 3);
  EXPECT_EQ(json::parse(last_body_)["otp"], "000000");
}

TEST_F(HttpTspClientTest, TspErrorsMapToStatusCodes) {
  auto conflict = client_->Suspend("tok-7", "device lost");
  EXPECT_EQ(conflict.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(conflict.status().message().find("token is inactive"), std::string::npos);
  EXPECT_EQ(json::parse(last_body_)["reason"], "device lost");
  EXPECT_EQ(client_->GetToken("tok-9").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(client_->GetToken("../admin").status().code(), ErrorCode::kInvalidArgument);
  auto bad_key = HttpTspClient::Create({.base_url = Url(), .api_key = "wrong"});
  ASSERT_TRUE(bad_key.ok());
  EXPECT_EQ((*bad_key)->GetToken("tok-9").status().code(), ErrorCode::kInternal);
}

TEST_F(HttpTspClientTest, DeleteTransactionsAndNotificationsParse) {
  auto deleted = client_->Delete("tok-8", "device replaced");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->state, "deleted");
  auto txs = client_->ListTransactions("tok-8", 50);
  ASSERT_TRUE(txs.ok()) << txs.status().ToString();
  ASSERT_EQ(txs->size(), 1u);
  EXPECT_EQ((*txs)[0].amount_minor, 1250);
  EXPECT_EQ((*txs)[0].channel, "contactless");
  EXPECT_EQ(limit_param_, "50");
  auto notes = client_->ListNotifications(11, 100);
  ASSERT_TRUE(notes.ok()) << notes.status().ToString();
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ((*notes)[0].seq, 12);
  EXPECT_EQ((*notes)[0].to, "suspended");
  EXPECT_EQ(after_param_, "11");
}

TEST_F(HttpTspClientTest, UnreachableTspIsUnavailableAndBadOptionsAreRefused) {
  server_.stop();
  thread_.join();
  EXPECT_EQ(client_->GetToken("tok-8").status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(HttpTspClient::Create({.base_url = "ftp://x", .api_key = "k"}).ok());
  EXPECT_FALSE(HttpTspClient::Create({.base_url = "http://h:1/v1", .api_key = "k"}).ok());
  EXPECT_FALSE(HttpTspClient::Create({.base_url = "http://h:1", .api_key = ""}).ok());
}

}  // namespace
}  // namespace tapstack::wallet
