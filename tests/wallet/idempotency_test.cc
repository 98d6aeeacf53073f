// Idempotency-Key on the POSTs that create tokens: required, replayed without calling the TSP,
// refused (422) with another body, per user.
#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

class IdempotencyTest : public SignedInWalletTest {};

TEST_P(IdempotencyTest, KeyIsRequiredOnTokenCreatingPosts) {
  HttpAnswer a = Call("POST", "/v1/cards", CardBody("phone-1", DemoBankPan(1)), session_);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["field"], "Idempotency-Key");
  EXPECT_EQ(Call("POST", "/v1/cards/abc/verify", {{"otp", "1"}}, session_).status, 400);
  EXPECT_EQ(Call("POST", "/v1/cards/abc/devices", {{"device_id", "x"}}, session_).status, 400);
  EXPECT_EQ(tsp_.provision_calls(), 0);
}

TEST_P(IdempotencyTest, SameKeyAndBodyReplaysTheStoredAnswerWithoutCallingTheTsp) {
  HttpAnswer first = AddCard(session_, "phone-1", DemoBankPan(1), "key-1");
  ASSERT_EQ(first.status, 201);
  HttpAnswer replay = AddCard(session_, "phone-1", DemoBankPan(1), "key-1");
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.headers.find("Idempotent-Replayed")->second, "true");
  EXPECT_EQ(tsp_.provision_calls(), 1);
  EXPECT_EQ(Call("GET", "/v1/cards", nullptr, session_).body["cards"].size(), 1u);
}

TEST_P(IdempotencyTest, ADeclineIsReplayedToo) {
  tsp_.Decline(DemoBankPan(1), "card_blocked");
  EXPECT_EQ(AddCard(session_, "phone-1", DemoBankPan(1), "key-1").status, 422);
  HttpAnswer replay = AddCard(session_, "phone-1", DemoBankPan(1), "key-1");
  EXPECT_EQ(replay.status, 422);
  EXPECT_EQ(replay.body["decline_reason"], "card_blocked");
  EXPECT_EQ(tsp_.provision_calls(), 1);
}

TEST_P(IdempotencyTest, SameKeyWithAnotherBodyIs422) {
  ASSERT_EQ(AddCard(session_, "phone-1", DemoBankPan(1), "key-1").status, 201);
  HttpAnswer reuse = AddCard(session_, "phone-1", DemoBankPan(2), "key-1");
  EXPECT_EQ(reuse.status, 422);
  EXPECT_EQ(reuse.body["error"], "idempotency_key_reused");
  EXPECT_EQ(tsp_.provision_calls(), 1);
  // The same key on another route is another request as well.
  std::string card_id = Call("GET", "/v1/cards", nullptr, session_).body["cards"][0]["card_id"];
  EXPECT_EQ(Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", "123456"}}, session_, "key-1")
                .body["error"],
            "idempotency_key_reused");
}

TEST_P(IdempotencyTest, KeysArePerUser) {
  ASSERT_EQ(AddCard(session_, "phone-1", DemoBankPan(1), "key-1").status, 201);
  std::string other = SignUpAndIn(kPhoneB);
  ASSERT_EQ(RegisterDevice(other, "phone-b").status, 201);
  HttpAnswer b = AddCard(other, "phone-b", DemoBankPan(1), "key-1");
  EXPECT_EQ(b.status, 201);
  EXPECT_FALSE(b.headers.count("Idempotent-Replayed"));
  EXPECT_NE(b.body["card"]["card_id"], nullptr);
  EXPECT_EQ(tsp_.provision_calls(), 2);
}

TEST_P(IdempotencyTest, WrongOtpAnswerIsReplayedNotRetried) {
  tsp_.StepUp(DemoBankPan(1));
  std::string card_id =
      AddCard(session_, "phone-1", DemoBankPan(1), "key-1").body["card"]["card_id"];
  HttpAnswer wrong =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", "000000"}}, session_, "v1");
  HttpAnswer replay =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", "000000"}}, session_, "v1");
  EXPECT_EQ(replay.status, 422);
  EXPECT_EQ(replay.body["attempts_left"], wrong.body["attempts_left"]);
  EXPECT_EQ(tsp_.otp_calls(), 1);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(IdempotencyTest);

}  // namespace
}  // namespace tapstack::wallet::testing
