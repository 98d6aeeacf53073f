#include "server/demo_node.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace tapstack::server {
namespace {

class DemoNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-node-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.data_dir = dir_.string();
    config_.http_port = 0;  // any free port
    config_.iso8583_port = 0;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static nlohmann::json GetJson(const DemoNode& node, const std::string& path, int* status) {
    httplib::Client client(node.http_url());
    auto res = client.Get(path);
    if (!res) return nullptr;
    *status = res->status;
    return nlohmann::json::parse(res->body);
  }

  std::filesystem::path dir_;
  ServeConfig config_;
};

TEST_F(DemoNodeTest, ServesHealthAndKeepsDataAcrossRestarts) {
  {
    auto node = DemoNode::Start(config_);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    int status = 0;
    auto health = GetJson(**node, "/health", &status);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(health["status"], "ok");
    EXPECT_EQ(health["start_count"], 1);
    EXPECT_NE(health["store"].get<std::string>().find("node.db"), std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(dir_ / "node.db"));
  }
  auto again = DemoNode::Start(config_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->start_count(), 2);
  (*again)->Stop();
  ASSERT_TRUE(DemoNode::ResetData(dir_.string()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "node.db"));
  auto fresh = DemoNode::Start(config_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->start_count(), 1);
}

TEST_F(DemoNodeTest, ListsCurrenciesAndAnswersUnknownRoutesWithJson) {
  auto node = DemoNode::Start(config_);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  int status = 0;
  auto body = GetJson(**node, "/v1/currencies", &status);
  EXPECT_EQ(status, 200);
  bool has_pkr = false;
  for (const auto& c : body["currencies"]) has_pkr |= c["code"] == "PKR" && c["numeric"] == 586;
  EXPECT_TRUE(has_pkr);
  auto missing = GetJson(**node, "/v1/nope", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(missing["error"], "not_found");
}

TEST_F(DemoNodeTest, ServesTheWalletPlatformsQrApi) {
  auto node = DemoNode::Start(config_);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  int status = 0;
  auto platform = GetJson(**node, "/v1/qrpay/tapstack-cn", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(platform["platform"]["currency"], "CNY");
  auto code = GetJson(**node, "/v1/qrpay/tapstack-cn/merchants/BJNOODLES01/codes/static", &status);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(code["payload"].get<std::string>().starts_with("000201010211")) << code.dump();
  // Account routes are behind the app gateway (server/qrpay_gateway.h): a wallet session, and
  // only the signed-in user's own account.
  httplib::Client client((*node)->http_url());
  auto anonymous = client.Post("/v1/qrpay/induspay-pk/accounts", R"({"owner_id": "ayesha", "level": 1})",
                               "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  auto session_of = [&](const std::string& phone) {
    const std::string body = R"({"phone":")" + phone + R"(","password":"password-123"})";
    EXPECT_EQ(client.Post("/v1/users", body, "application/json")->status, 201);
    const auto s = nlohmann::json::parse(client.Post("/v1/sessions", body, "application/json")->body);
    return std::make_pair(s["session"].get<std::string>(), s["user_id"].get<std::string>());
  };
  const auto [ayesha, ayesha_id] = session_of("+923001234567");
  const auto [bilal, bilal_id] = session_of("+923007654321");
  const httplib::Headers as_ayesha = {{"Authorization", "Bearer " + ayesha}};
  auto opened = client.Post("/v1/qrpay/induspay-pk/accounts", as_ayesha,
                            R"({"owner_id": ")" + ayesha_id + R"(", "level": 1})", "application/json");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->status, 201) << opened->body;
  const std::string account = nlohmann::json::parse(opened->body)["account"]["account_id"];
  auto for_another = client.Post("/v1/qrpay/induspay-pk/accounts", as_ayesha,
                                 R"({"owner_id": ")" + bilal_id + R"(", "level": 1})", "application/json");
  EXPECT_EQ(for_another->status, 400);
  EXPECT_EQ(client.Get("/v1/qrpay/induspay-pk/accounts/" + account, as_ayesha)->status, 200);
  auto snooping = client.Get("/v1/qrpay/induspay-pk/accounts/" + account,
                             httplib::Headers{{"Authorization", "Bearer " + bilal}});
  EXPECT_EQ(snooping->status, 404);
  // Admin routes are closed: `tapstack serve` configures no admin token.
  auto audit = GetJson(**node, "/v1/qrpay/tapstack-cn/audit", &status);
  EXPECT_EQ(status, 401);
  GetJson(**node, "/v1/qrpay/nowhere", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(DemoNodeTest, PortInUseIsUnavailable) {
  auto first = DemoNode::Start(config_);
  ASSERT_TRUE(first.ok());
  ServeConfig clash = config_;
  clash.data_dir = (dir_ / "other").string();
  std::string url = (*first)->http_url();
  clash.http_port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  auto second = DemoNode::Start(clash);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace tapstack::server
