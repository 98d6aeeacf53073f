// SMS gateways: E.164 checks, the outbox table, and the webhook against a local httplib server.
#include "tsp/sms_gateway.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "store/store_fixture.h"

namespace tapstack::tsp {
namespace {

TEST(SmsGatewayTest, E164) {
  EXPECT_TRUE(CheckE164("+8613800138000").ok());
  EXPECT_TRUE(CheckE164("+14155552671").ok());
  for (std::string_view bad : {"8613800138000", "+0613800138000", "+86138", "+8613800138000123",
                               "+86 1380013800", ""}) {
    const Status s = CheckE164(bad);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().rfind("phone:", 0), 0u) << s.message();
  }
  EXPECT_EQ(MaskPhone("+8613800138000"), "+86*******8000");
}

class OutboxTest : public store::testing::StoreTest {};

TEST_P(OutboxTest, SendAndListPerPhone) {
  ManualClock clock;
  std::mutex mu;
  auto outbox = OutboxSmsGateway::Open(*store_, clock, mu);
  ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
  ASSERT_TRUE((*outbox)->Send("+8613800138000", "code 111111").ok());
  ASSERT_TRUE((*outbox)->Send("+14155552671", "code 222222").ok());
  clock.AdvanceMillis(5);
  ASSERT_TRUE((*outbox)->Send("+8613800138000", "code 333333").ok());
  EXPECT_EQ((*outbox)->Send("13800138000", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*outbox)->Send("+8613800138000", "").code(), ErrorCode::kInvalidArgument);

  auto all = (*outbox)->List("+8613800138000", 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].text, "code 111111");
  EXPECT_EQ((*all)[1].text, "code 333333");
  EXPECT_EQ((*all)[1].to, "+8613800138000");
  EXPECT_EQ((*all)[1].time_unix_ms, clock.NowUnixMillis());
  EXPECT_LT((*all)[0].seq, (*all)[1].seq);
  auto after = (*outbox)->List("+8613800138000", (*all)[0].seq);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].text, "code 333333");
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(OutboxTest);

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/sms", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      res.status = status_;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sms"; }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> bodies_;
  int status_ = 202;
};

TEST_F(WebhookTest, PostsJson) {
  auto gateway = WebhookSmsGateway::Create(Url());
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  ASSERT_TRUE((*gateway)->Send("+8613800138000", "code 123456").ok());
  std::lock_guard lock(mu_);
  ASSERT_EQ(bodies_.size(), 1u);
  const auto body = nlohmann::json::parse(bodies_[0]);
  EXPECT_EQ(body["to"], "+8613800138000");
  EXPECT_EQ(body["text"], "code 123456");
}

TEST_F(WebhookTest, Non2xxIsUnavailable) {
  status_ = 500;
  auto gateway = WebhookSmsGateway::Create(Url());
  ASSERT_TRUE(gateway.ok());
  const Status s = (*gateway)->Send("+8613800138000", "code 123456");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("500"), std::string::npos);
  EXPECT_EQ(s.message().find("123456"), std::string::npos);
}

TEST_F(WebhookTest, UnreachableIsUnavailable) {
  server_.stop();
  thread_.join();
  auto gateway = WebhookSmsGateway::Create(Url(), 500);
  ASSERT_TRUE(gateway.ok());
  EXPECT_EQ((*gateway)->Send("+8613800138000", "code 123456").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(WebhookSmsGateway::Create("127.0.0.1/sms").status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::tsp
