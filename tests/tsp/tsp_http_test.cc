// The JSON API through httplib::Client on a real loopback port.
#include "tsp/tsp_http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "provisioning_test_support.h"

namespace tapstack::tsp {
namespace {

using nlohmann::json;
using testing::MakeDevice;
using testing::TestDevice;

class TspHttpTest : public testing::TspServiceTest {
 protected:
  void SetUp() override {
    TspServiceTest::SetUp();
    if (HasFatalFailure()) return;
    InstallTspRoutes(server_, *service_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    TspServiceTest::TearDown();
  }

  struct Reply {
    int status = 0;
    json body;
    std::string raw;
  };
  Reply Call(const std::string& method, const std::string& path, const json& body = nullptr,
             std::string_view key = testing::kDemoWalletKey) {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + std::string(key));
    httplib::Result r = method == "GET"
                            ? client_->Get(path, headers)
                            : client_->Post(path, headers, body.is_null() ? "" : body.dump(),
                                            "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->body};
  }
  json ProvisionBody(const TestDevice& d, std::string_view pan = testing::kTestPanVisa) {
    return {{"requestor_id", testing::kWalletTrid}, {"device_id", d.id},
            {"device_public_key", HexEncode(d.public_key)}, {"storage", "hce"},
            {"pan", pan}, {"pan_expiry", "2812"}, {"cvv2", "123"}, {"holder_name", "LI LEI"},
            {"phone", testing::kPhone}};
  }
  std::string OtpFromOutbox() {
    Reply r = Call("GET", "/v1/tsp/sms-outbox?phone=%2B8613800138000&after=0");
    EXPECT_EQ(r.status, 200) << r.raw;
    const std::string text = r.body["messages"].back()["text"];
    for (std::size_t i = 0; i + 6 <= text.size(); ++i) {
      if (IsAllDigits(text.substr(i, 6))) return text.substr(i, 6);
    }
    return "";
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
  TestDevice phone_ = MakeDevice("phone-1");
};

TEST_F(TspHttpTest, AuthIsRequired) {
  EXPECT_EQ(Call("POST", "/v1/tsp/provisionings", ProvisionBody(phone_), "").status, 401);
  Reply r = Call("GET", "/v1/tsp/notifications", nullptr, "not-a-key-of-anyone-at-all");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"], "unauthenticated");
}

TEST_F(TspHttpTest, StepUpOtpAndEveryTokenRoute) {
  Reply p = Call("POST", "/v1/tsp/provisionings", ProvisionBody(phone_));
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.body["decision"], "step_up");
  EXPECT_EQ(p.body["response_code"], "85");
  EXPECT_EQ(p.body["otp"]["sent_to"], "+86*******8000");
  EXPECT_EQ(p.body["otp"]["attempts_left"], 5);
  EXPECT_FALSE(p.body.contains("credentials"));
  const std::string id = p.body["token"]["token_id"];
  EXPECT_EQ(p.body["token"]["state"], "inactive");
  EXPECT_EQ(p.body["token"]["masked_pan"], "411111******1111");
  EXPECT_EQ(p.body["token"]["storage"], "hce");
  EXPECT_EQ(p.raw.find(testing::kTestPanVisa), std::string::npos);
  EXPECT_EQ(p.raw.find("cvv2"), std::string::npos);

  const std::string otp = OtpFromOutbox();
  std::string wrong = otp;
  wrong[0] = otp[0] == '9' ? '0' : static_cast<char>(otp[0] + 1);
  Reply w = Call("POST", "/v1/tsp/tokens/" + id + "/otp", {{"otp", wrong}});
  EXPECT_EQ(w.status, 422);
  EXPECT_EQ(w.body["error"], "otp_mismatch");
  EXPECT_EQ(w.body["attempts_left"], 4);
  // Another requestor: as if the token did not exist.
  EXPECT_EQ(Call("POST", "/v1/tsp/tokens/" + id + "/otp", {{"otp", otp}}, testing::kOtherWalletKey)
                .status,
            404);
  EXPECT_EQ(Call("GET", "/v1/tsp/tokens/" + id, nullptr, testing::kOtherWalletKey).status, 404);

  Reply ok = Call("POST", "/v1/tsp/tokens/" + id + "/otp", {{"otp", otp}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["decision"], "approved");
  EXPECT_EQ(ok.body["token"]["state"], "active");
  EXPECT_FALSE(ok.body["credentials"].get<std::string>().empty());

  Reply keys = Call("POST", "/v1/tsp/tokens/" + id + "/keys", {{"count", 3}});
  ASSERT_EQ(keys.status, 200) << keys.raw;
  EXPECT_FALSE(keys.body["credentials"].get<std::string>().empty());

  Reply got = Call("GET", "/v1/tsp/tokens/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["token"]["token_last4"].get<std::string>().size(), 4u);
  EXPECT_EQ(got.body["token"]["requestor_id"], testing::kWalletTrid);

  // A use recorded by the switch shows in the transactions.
  auto record = service_->GetToken(testing::kWalletTrid, id);
  ASSERT_TRUE(record.ok());
  auto vault_number = store_->QueryRow("SELECT token_number FROM tsp_tokens WHERE token_id = ?",
                                       {id});
  ASSERT_TRUE(vault_number.ok());
  service_->RecordUse({*vault_number->GetText(0), "0100", 2500, 156, "COFFEE", "5812", "071", "00",
                       "AB12CD", "000777", "TERM0001", 1'767'225'600'123});
  Reply tx = Call("GET", "/v1/tsp/tokens/" + id + "/transactions?limit=50");
  ASSERT_EQ(tx.status, 200) << tx.raw;
  ASSERT_EQ(tx.body["transactions"].size(), 1u);
  EXPECT_EQ(tx.body["transactions"][0]["amount_minor"], 2500);
  EXPECT_EQ(tx.body["transactions"][0]["currency"], "CNY");
  EXPECT_EQ(tx.body["transactions"][0]["channel"], "contactless");
  EXPECT_EQ(tx.body["transactions"][0]["approved"], true);
  EXPECT_EQ(tx.body["transactions"][0]["stan"], "000777");

  Reply s = Call("POST", "/v1/tsp/tokens/" + id + "/suspend", {{"reason", "device lost"}});
  ASSERT_EQ(s.status, 200) << s.raw;
  EXPECT_EQ(s.body["token"]["state"], "suspended");
  EXPECT_EQ(Call("POST", "/v1/tsp/tokens/" + id + "/suspend", {{"reason", "again"}}).status, 409);
  EXPECT_EQ(Call("POST", "/v1/tsp/tokens/" + id + "/resume", {{"reason", "found"}}).body["token"]
                ["state"],
            "active");

  Reply n = Call("GET", "/v1/tsp/notifications?after=0&limit=100");
  ASSERT_EQ(n.status, 200);
  ASSERT_EQ(n.body["notifications"].size(), 3u);
  EXPECT_EQ(n.body["notifications"][0]["event"], "activate");
  EXPECT_EQ(n.body["notifications"][1]["initiator"], "wallet");
  EXPECT_EQ(n.body["notifications"][2]["to"], "active");
  EXPECT_TRUE(
      Call("GET", "/v1/tsp/notifications", nullptr, testing::kOtherWalletKey).body["notifications"]
          .empty());

  const TestDevice watch = MakeDevice("watch-1");
  Reply d = Call("POST", "/v1/tsp/tokens/" + id + "/devices",
                 {{"device_id", watch.id}, {"device_public_key", HexEncode(watch.public_key)},
                  {"storage", "se"}});
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body["decision"], "approved");
  EXPECT_EQ(d.body["token"]["storage"], "se");
  EXPECT_EQ(d.body["token"]["device_id"], "watch-1");
  const std::string watch_id = d.body["token"]["token_id"];
  EXPECT_EQ(Call("POST", "/v1/tsp/tokens/" + watch_id + "/keys", {{"count", 3}}).status, 409);

  Reply del = Call("POST", "/v1/tsp/tokens/" + id + "/delete", {{"reason", "user"}});
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.body["token"]["state"], "deleted");
}

TEST_F(TspHttpTest, BadFieldsAreNamed) {
  json body = ProvisionBody(phone_);
  body["pan_expiry"] = "2813";
  Reply r = Call("POST", "/v1/tsp/provisionings", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "invalid_argument");
  EXPECT_EQ(r.body["field"], "pan_expiry");
  body = ProvisionBody(phone_);
  body.erase("cvv2");
  EXPECT_EQ(Call("POST", "/v1/tsp/provisionings", body).body["field"], "cvv2");
  body = ProvisionBody(phone_);
  body["storage"] = "tee";
  EXPECT_EQ(Call("POST", "/v1/tsp/provisionings", body).body["field"], "storage");
  body = ProvisionBody(phone_, "4111111111111112");
  Reply pan = Call("POST", "/v1/tsp/provisionings", body);
  EXPECT_EQ(pan.body["field"], "pan");
  EXPECT_EQ(pan.raw.find("4111111111111112"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/tsp/notifications?limit=0").body["field"], "limit");
  EXPECT_EQ(Call("POST", "/v1/tsp/provisionings", "not json").status, 400);
  EXPECT_EQ(Call("GET", "/v1/tsp/tokens/tok_nothere").status, 404);
}

TEST_F(TspHttpTest, GreenAndDeclined) {
  issuer_.set_decision("G");
  Reply g = Call("POST", "/v1/tsp/provisionings", ProvisionBody(phone_));
  ASSERT_EQ(g.status, 200) << g.raw;
  EXPECT_EQ(g.body["decision"], "approved");
  EXPECT_EQ(g.body["token"]["state"], "active");
  EXPECT_FALSE(g.body.contains("otp"));
  json body = ProvisionBody(phone_, testing::kTestPanMastercard);
  body["cvv2"] = "999";
  Reply red = Call("POST", "/v1/tsp/provisionings", body);
  ASSERT_EQ(red.status, 200);
  EXPECT_EQ(red.body["decision"], "declined");
  EXPECT_EQ(red.body["response_code"], "N7");
  EXPECT_EQ(red.body["decline_reason"], "cvv2_mismatch");
  EXPECT_FALSE(red.body.contains("token"));
  EXPECT_EQ(red.raw.find("999"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::tsp
