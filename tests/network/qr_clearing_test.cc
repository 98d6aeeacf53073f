// QrClearing on SQLite and PostgreSQL: a payment between two platforms is forwarded once, its
// answer is kept for repeats, positions move only on approval and sum to zero per currency, and a
// cut-off closes them.
#include "network/qr_clearing.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/store_fixture.h"

namespace tapstack::network {
namespace {

nlohmann::json Payment(const std::string& clearing_id, std::int64_t pkr_minor = 150'000) {
  return {{"type", "qr_payment"},
          {"clearing_id", clearing_id},
          {"payer_platform", "tapstack-cn"},
          {"payee_platform", "induspay-pk"},
          {"payload", "000201010212...6304ABCD"},
          {"amount", {{"minor", pkr_minor}, {"currency", "PKR"}}},
          {"payer_amount", {{"minor", 3'879}, {"currency", "CNY"}}},
          {"rate", "0.0256"},
          {"markup_bps", 100},
          {"payer_alias", "u-7f3a"}};
}

class QrClearingTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (store_ == nullptr) return;
    auto clearing = QrClearing::Open(*store_, &clock_);
    ASSERT_TRUE(clearing.ok()) << clearing.status().ToString();
    clearing_ = std::move(*clearing);
    ASSERT_TRUE(clearing_->RegisterPlatform("tapstack-cn", [](const nlohmann::json&) {
                  return Result<nlohmann::json>(Unavailable("not a payee here"));
                }).ok());
    ASSERT_TRUE(clearing_->RegisterPlatform("induspay-pk", [this](const nlohmann::json& request)
                                                               -> Result<nlohmann::json> {
                  ++forwards_;
                  if (!payee_up_) return Unavailable("induspay-pk: down");
                  if (request["amount"]["minor"].get<std::int64_t>() > 1'000'000) {
                    return nlohmann::json{{"status", "declined"}, {"reason", "amount: above the merchant's limit"}};
                  }
                  return nlohmann::json{{"status", "approved"}, {"payee_payment_id", "p-" + request["clearing_id"].get<std::string>()}};
                }).ok());
  }

  ManualClock clock_{1'795'000'000'000};
  std::unique_ptr<QrClearing> clearing_;
  int forwards_ = 0;
  bool payee_up_ = true;
};

TEST_P(QrClearingTest, ApprovedPaymentMovesPositionsThatSumToZero) {
  auto answer = clearing_->Handle(Payment("tapstack-cn:pay-1"));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ((*answer)["status"], "approved");
  EXPECT_EQ((*answer)["clearing_id"], "tapstack-cn:pay-1");
  auto positions = clearing_->Positions();
  ASSERT_TRUE(positions.ok());
  ASSERT_EQ(positions->size(), 2u);
  std::int64_t sum = 0;
  for (const ClearingPosition& p : *positions) {
    EXPECT_EQ(p.currency, "PKR");
    EXPECT_EQ(p.net_minor, p.platform_id == "induspay-pk" ? 150'000 : -150'000);
    sum += p.net_minor;
  }
  EXPECT_EQ(sum, 0);
}

TEST_P(QrClearingTest, ARepeatGetsTheFirstAnswerWithoutASecondForward) {
  ASSERT_TRUE(clearing_->Handle(Payment("tapstack-cn:pay-2")).ok());
  auto again = clearing_->Handle(Payment("tapstack-cn:pay-2"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["payee_payment_id"], "p-tapstack-cn:pay-2");
  EXPECT_EQ(forwards_, 1);
  auto other = clearing_->Handle(Payment("tapstack-cn:pay-2", 99));
  EXPECT_EQ(other.status().code(), ErrorCode::kAlreadyExists);
  auto positions = clearing_->Positions();
  ASSERT_TRUE(positions.ok());
  for (const ClearingPosition& p : *positions) EXPECT_EQ(p.payments, 1) << p.platform_id;
}

TEST_P(QrClearingTest, ADeclineMovesNothingAndAnUnreachablePayeeRecordsNothing) {
  auto declined = clearing_->Handle(Payment("tapstack-cn:pay-3", 2'000'000));
  ASSERT_TRUE(declined.ok());
  EXPECT_EQ((*declined)["status"], "declined");
  payee_up_ = false;
  EXPECT_EQ(clearing_->Handle(Payment("tapstack-cn:pay-4")).status().code(), ErrorCode::kUnavailable);
  auto positions = clearing_->Positions();
  ASSERT_TRUE(positions.ok());
  EXPECT_TRUE(positions->empty());
  payee_up_ = true;  // the retry with the same id goes through
  auto retried = clearing_->Handle(Payment("tapstack-cn:pay-4"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ((*retried)["status"], "approved");
}

TEST_P(QrClearingTest, MalformedMessagesNameTheMember) {
  nlohmann::json missing = Payment("x");
  missing.erase("payload");
  EXPECT_TRUE(clearing_->Handle(missing).status().message().starts_with("payload"));
  nlohmann::json bad_amount = Payment("x");
  bad_amount["amount"]["minor"] = -5;
  EXPECT_TRUE(clearing_->Handle(bad_amount).status().message().starts_with("amount.minor"));
  nlohmann::json bad_currency = Payment("x");
  bad_currency["payer_amount"]["currency"] = "XYZ";
  EXPECT_TRUE(clearing_->Handle(bad_currency).status().message().starts_with("payer_amount.currency"));
  nlohmann::json unknown = Payment("x");
  unknown["payee_platform"] = "nowhere";
  EXPECT_EQ(clearing_->Handle(unknown).status().code(), ErrorCode::kNotFound);
  nlohmann::json self = Payment("x");
  self["payee_platform"] = "tapstack-cn";
  EXPECT_EQ(clearing_->Handle(self).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(forwards_, 0);
}

TEST_P(QrClearingTest, MembersOfAnotherTypeAreRefusedNotThrown) {
  for (const nlohmann::json& type : {nlohmann::json(5), nlohmann::json(nullptr),
                                     nlohmann::json::array({"qr_payment"})}) {
    nlohmann::json wrong = Payment("x");
    wrong["type"] = type;
    const Status refused = clearing_->Handle(wrong).status();
    EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument) << type.dump();
    EXPECT_TRUE(refused.message().starts_with("type")) << refused.ToString();
  }
  nlohmann::json untyped = Payment("x");
  untyped.erase("type");
  EXPECT_TRUE(clearing_->Handle(untyped).status().message().starts_with("type"));
  EXPECT_EQ(forwards_, 0);
  // A payee answering "status" of another type did not answer: nothing is recorded.
  ASSERT_TRUE(clearing_->RegisterPlatform("induspay-pk", [](const nlohmann::json&) {
                return Result<nlohmann::json>(nlohmann::json{{"status", 5}});
              }).ok());
  EXPECT_EQ(clearing_->Handle(Payment("tapstack-cn:odd")).status().code(),
            ErrorCode::kUnavailable);
  auto positions = clearing_->Positions();
  ASSERT_TRUE(positions.ok());
  EXPECT_TRUE(positions->empty());
}

TEST_P(QrClearingTest, ACorruptedStoredAnswerIsCorruptionNotAnException) {
  ASSERT_TRUE(clearing_->Handle(Payment("tapstack-cn:c1")).ok());
  ASSERT_TRUE(store_
                  ->Execute("UPDATE qr_clearing_payments SET answer = ? WHERE clearing_id = ?",
                            {std::string("{\"status\": \"appr"), std::string("tapstack-cn:c1")})
                  .ok());
  const Status repeat = clearing_->Handle(Payment("tapstack-cn:c1")).status();
  EXPECT_EQ(repeat.code(), ErrorCode::kCorruption) << repeat.ToString();
  EXPECT_NE(repeat.message().find("tapstack-cn:c1"), std::string::npos) << repeat.ToString();
  EXPECT_EQ(forwards_, 1);  // not forwarded again
}

TEST_P(QrClearingTest, CutOffClosesTheOpenPositions) {
  ASSERT_TRUE(clearing_->Handle(Payment("tapstack-cn:a", 1000)).ok());
  ASSERT_TRUE(clearing_->Handle(Payment("tapstack-cn:b", 2500)).ok());
  auto settlement = clearing_->CutOff("2026-11-22");
  ASSERT_TRUE(settlement.ok()) << settlement.status().ToString();
  EXPECT_EQ(settlement->settlement_id, 1);
  ASSERT_EQ(settlement->positions.size(), 2u);
  EXPECT_EQ(settlement->positions[0].platform_id, "induspay-pk");
  EXPECT_EQ(settlement->positions[0].net_minor, 3500);
  EXPECT_EQ(settlement->positions[0].payments, 2);
  EXPECT_TRUE(clearing_->Positions()->empty());
  auto next = clearing_->CutOff("2026-11-23");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->settlement_id, 2);
  EXPECT_TRUE(next->positions.empty());
  EXPECT_EQ(clearing_->CutOff("22/11/2026").status().code(), ErrorCode::kInvalidArgument);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(QrClearingTest);

}  // namespace
}  // namespace tapstack::network
