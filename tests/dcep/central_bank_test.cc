// CentralBank: issuance against reserves, redemption, interbank settlement, idempotent keys, the
// audit (issued = Σ positions), durability across reopen and the JSON handler.
#include "dcep/central_bank.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dcep/central_bank_client.h"
#include "dcep_test_util.h"

namespace tapstack::dcep {
namespace {

using nlohmann::json;
using testing::Must;

class CentralBankTest : public testing::DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    Open();
  }
  void Open() {
    CentralBankOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    bank_ = Must(CentralBank::Open(std::move(options)));
    ASSERT_OK(bank_->RegisterOperator("icbc", 1'000'000));
    ASSERT_OK(bank_->RegisterOperator("ccb", 500'000));
  }
  std::unique_ptr<CentralBank> bank_;
};

TEST_F(CentralBankTest, IssueMovesReserveIntoPositionAndRedeemReverses) {
  const Movement issued = Must(bank_->Issue("icbc", 300'000, "issue-1"));
  EXPECT_EQ(issued.position_fen, 300'000);
  EXPECT_FALSE(issued.replayed);
  OperatorPosition icbc = Must(bank_->Position("icbc"));
  EXPECT_EQ(icbc.position_fen, 300'000);
  EXPECT_EQ(icbc.reserve_fen, 700'000);

  const Movement redeemed = Must(bank_->Redeem("icbc", 100'000, "redeem-1"));
  EXPECT_EQ(redeemed.position_fen, 200'000);
  icbc = Must(bank_->Position("icbc"));
  EXPECT_EQ(icbc.reserve_fen, 800'000);

  const CentralBankAudit audit = Must(bank_->Audit());
  EXPECT_EQ(audit.issued_fen, 200'000);
  EXPECT_EQ(audit.positions_sum_fen, 200'000);
  EXPECT_EQ(audit.liability_fen, 200'000);
  EXPECT_EQ(audit.reserves_sum_fen, 800'000 + 500'000);
}

TEST_F(CentralBankTest, IssueBeyondTheReserveIsRefusedAndNothingMoves) {
  auto refused = bank_->Issue("ccb", 500'001, "too-much");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("reserve of ccb"), std::string::npos);
  EXPECT_EQ(Must(bank_->Position("ccb")).position_fen, 0);
  EXPECT_EQ(Must(bank_->Position("ccb")).reserve_fen, 500'000);
  // The refusal is remembered: the same key never succeeds later.
  EXPECT_EQ(bank_->Issue("ccb", 500'001, "too-much").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(bank_->Redeem("ccb", 1, "redeem-nothing").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(bank_->Issue("hsbc", 1, "k").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bank_->Issue("icbc", 0, "k").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bank_->Issue("icbc", 1, "").status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(bank_->Audit().ok());
}

TEST_F(CentralBankTest, SameKeyReplaysDifferentBodyIsRefused) {
  Must(bank_->Issue("icbc", 1'000, "k1"));
  const Movement again = Must(bank_->Issue("icbc", 1'000, "k1"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(Must(bank_->Position("icbc")).position_fen, 1'000);  // not issued twice
  auto reused = bank_->Issue("icbc", 2'000, "k1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);
  // Keys are per operator: ccb's k1 is another request.
  EXPECT_FALSE(Must(bank_->Issue("ccb", 1'000, "k1")).replayed);
}

TEST_F(CentralBankTest, SettleMovesPositionsAndCanBeReversedOnce) {
  Must(bank_->Issue("icbc", 10'000, "i"));
  const Movement settled = Must(bank_->Settle("icbc", "ccb", 4'000, "pay-1"));
  EXPECT_EQ(settled.position_fen, 6'000);
  EXPECT_EQ(Must(bank_->Position("ccb")).position_fen, 4'000);
  EXPECT_EQ(bank_->Settle("icbc", "ccb", 6'001, "pay-2").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(bank_->Settle("icbc", "icbc", 1, "pay-3").status().code(),
            ErrorCode::kInvalidArgument);
  // A reversal needs the recorded settlement with the same fields.
  EXPECT_EQ(bank_->ReverseSettlement("icbc", "ccb", 3'999, "pay-1").status().code(),
            ErrorCode::kNotFound);
  Must(bank_->ReverseSettlement("icbc", "ccb", 4'000, "pay-1"));
  EXPECT_TRUE(Must(bank_->ReverseSettlement("icbc", "ccb", 4'000, "pay-1")).replayed);
  EXPECT_EQ(Must(bank_->Position("icbc")).position_fen, 10'000);
  EXPECT_EQ(Must(bank_->Position("ccb")).position_fen, 0);
  EXPECT_EQ(Must(bank_->Audit()).issued_fen, 10'000);
}

TEST_F(CentralBankTest, StateSurvivesReopen) {
  Must(bank_->Issue("icbc", 7'000, "i"));
  Must(bank_->Settle("icbc", "ccb", 2'000, "s"));
  bank_.reset();
  Open();  // registering again is idempotent
  EXPECT_EQ(Must(bank_->Position("icbc")).position_fen, 5'000);
  EXPECT_EQ(Must(bank_->Position("icbc")).reserve_fen, 993'000);
  EXPECT_TRUE(Must(bank_->Issue("icbc", 7'000, "i")).replayed);
  EXPECT_EQ(bank_->RegisterOperator("icbc", 999).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Must(bank_->Audit()).issued_fen, 7'000);
}

TEST_F(CentralBankTest, JsonHandlerAndInProcessClient) {
  InProcessCentralBankClient client(*bank_);
  const Movement m = Must(client.Issue({"icbc", 5'000, "json-1"}));
  EXPECT_EQ(m.position_fen, 5'000);
  EXPECT_EQ(m.transfer_id.size(), 32u);
  const OperatorPosition p = Must(client.Position("icbc"));
  EXPECT_EQ(p.position_fen, 5'000);
  auto refused = client.Settle({"icbc", "ccb", 9'000, "json-2"});
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);

  json bad = json::parse(HandleCentralBankJson(*bank_, "issue", R"({"operator_id":"icbc"})"));
  EXPECT_EQ(bad["error"], "invalid_argument");
  EXPECT_EQ(bad["message"], "amount_fen: required");
  bad = json::parse(HandleCentralBankJson(
      *bank_, "issue", R"({"operator_id":"icbc","amount_fen":1,"idempotency_key":"x","memo":1})"));
  EXPECT_EQ(bad["message"], "memo: unknown member");
  bad = json::parse(HandleCentralBankJson(*bank_, "mint", "{}"));
  EXPECT_EQ(bad["error"], "not_found");
  bad = json::parse(HandleCentralBankJson(*bank_, "issue", "not json"));
  EXPECT_EQ(bad["error"], "invalid_argument");
}

}  // namespace
}  // namespace tapstack::dcep
