// TokenNotifications: lifecycle events land in a durable feed per requestor, in order.
#include "tsp/token_notifications.h"

#include <gtest/gtest.h>

#include "tsp/token_lifecycle.h"
#include "tsp/tsp_test_support.h"

namespace tapstack::tsp {
namespace {

class TokenNotificationsTest : public testing::VaultTest {};

TEST_P(TokenNotificationsTest, FeedPerRequestorSurvivesReopen) {
  RecordingTokenEventListener downstream;
  auto feed = TokenNotifications::Open(*store_, &downstream);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  TokenLifecycle lifecycle(*vault_, clock_, **feed);
  auto t = vault_->Tokenize(testing::TestPan(testing::kTestPanVisa), testing::DemoRequest());
  ASSERT_TRUE(t.ok());
  const std::string id = t->record.token_id;
  ASSERT_TRUE(lifecycle.Activate(id, {InitiatorKind::kTsp, "tsp:idv"}, "idv").ok());
  ASSERT_TRUE(
      lifecycle.Suspend(id, {InitiatorKind::kWallet, std::string(testing::kWalletTrid)}, "lost")
          .ok());
  ASSERT_TRUE(lifecycle.Resume(id, {InitiatorKind::kWallet, std::string(testing::kWalletTrid)},
                               "found")
                  .ok());
  EXPECT_EQ(downstream.events().size(), 3u);

  auto list = (*feed)->List(testing::kWalletTrid, 0, 100);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].event, "activate");
  EXPECT_EQ((*list)[0].from, "inactive");
  EXPECT_EQ((*list)[0].to, "active");
  EXPECT_EQ((*list)[0].initiator, "tsp");
  EXPECT_EQ((*list)[1].event, "suspend");
  EXPECT_EQ((*list)[1].initiator, "wallet");
  EXPECT_EQ((*list)[2].event, "resume");
  EXPECT_EQ((*list)[2].token_id, id);
  EXPECT_EQ((*list)[2].device_id, "se-0001");
  EXPECT_EQ((*list)[2].time_unix_ms, clock_.NowUnixMillis());
  EXPECT_TRUE((*feed)->List(testing::kOtherWalletTrid, 0, 100)->empty());

  auto after = (*feed)->List(testing::kWalletTrid, (*list)[0].seq, 1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].event, "suspend");

  feed->reset();
  vault_.reset();
  Reopen();
  auto reopened = TokenNotifications::Open(*store_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->List(testing::kWalletTrid, 0, 100)->size(), 3u);
  EXPECT_EQ((*reopened)->List(testing::kWalletTrid, 0, 0).status().code(),
            ErrorCode::kInvalidArgument);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenNotificationsTest);

}  // namespace
}  // namespace tapstack::tsp
