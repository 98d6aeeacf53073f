// Cards through the HTTP routes: add-card green / yellow / red, OTP forwarding, the 8-card limit,
// the default card, adding a card to a watch, transactions, promotions and token notifications.
#include "wallet/limits.h"
#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

class CardsTest : public SignedInWalletTest {
 protected:
  std::int64_t CardRows() {
    auto row = store_->QueryRow("SELECT count(*) AS n FROM wallet_cards");
    return row.ok() ? *row->GetInt64("n") : -1;
  }
};

TEST_P(CardsTest, GreenCardIsActiveWithCredentialsAndMaskedPan) {
  HttpAnswer a = AddCard(session_, "phone-1", DemoBankPan(1), "k1");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["result"], "active");
  EXPECT_EQ(a.body["credentials"], "C0FFEE1");
  const json& card = a.body["card"];
  EXPECT_EQ(card["masked_pan"], "622202******" + DemoBankPan(1).substr(12));
  EXPECT_EQ(card["last4"], DemoBankPan(1).substr(12));
  EXPECT_EQ(card["pan_expiry"], "2812");  // MM/YY 12/28 → YYMM
  EXPECT_EQ(card["bank"]["name"], "China Demo Bank");
  EXPECT_EQ(card["is_default"], true);
  ASSERT_EQ(card["tokens"].size(), 1u);
  EXPECT_EQ(card["tokens"][0]["state"], "active");
  EXPECT_EQ(card["tokens"][0]["device_id"], "phone-1");
  EXPECT_EQ(tsp_.last_phone(), kPhoneA);  // the OTP would go to the user's phone
  EXPECT_EQ(a.body.dump().find(DemoBankPan(1)), std::string::npos);
}

TEST_P(CardsTest, YellowCardForwardsWrongOtpWithAttemptsLeftThenActivates) {
  tsp_.StepUp(DemoBankPan(2));
  HttpAnswer a = AddCard(session_, "phone-1", DemoBankPan(2), "k1");
  ASSERT_EQ(a.status, 202) << a.body.dump();
  EXPECT_EQ(a.body["result"], "pending_verification");
  EXPECT_EQ(a.body["otp"]["attempts_left"], 5);
  EXPECT_EQ(a.body["otp"]["sent_to"], "+86*******8000");
  EXPECT_FALSE(a.body.contains("credentials"));
  std::string card_id = a.body["card"]["card_id"];
  EXPECT_EQ(a.body["card"]["state"], "pending_verification");

  HttpAnswer wrong =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", "000000"}}, session_, "v1");
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.body["error"], "otp_mismatch");
  EXPECT_EQ(wrong.body["field"], "otp");
  EXPECT_EQ(wrong.body["attempts_left"], 4);

  HttpAnswer right =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", kFakeOtp}}, session_, "v2");
  ASSERT_EQ(right.status, 200) << right.body.dump();
  EXPECT_EQ(right.body["card"]["state"], "active");
  EXPECT_EQ(right.body["card"]["tokens"][0]["state"], "active");
  EXPECT_FALSE(right.body["credentials"].get<std::string>().empty());
  HttpAnswer again =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", kFakeOtp}}, session_, "v3");
  EXPECT_EQ(again.status, 409);
}

TEST_P(CardsTest, AddingAPendingCardAgainReusesItsCardWithAFreshOtp) {
  tsp_.StepUp(DemoBankPan(2));
  HttpAnswer first = AddCard(session_, "phone-1", DemoBankPan(2), "k1");
  ASSERT_EQ(first.status, 202);
  ASSERT_EQ(
      Call("POST", "/v1/cards/" + first.body["card"]["card_id"].get<std::string>() + "/verify",
           {{"otp", "000000"}}, session_, "v1")
          .body["attempts_left"],
      4);
  HttpAnswer again = AddCard(session_, "phone-1", DemoBankPan(2), "k2");  // e.g. after otp_expired
  ASSERT_EQ(again.status, 202) << again.body.dump();
  EXPECT_EQ(again.body["card"]["card_id"], first.body["card"]["card_id"]);
  EXPECT_EQ(again.body["otp"]["attempts_left"], 5);
  EXPECT_EQ(tsp_.provision_calls(), 2);
  EXPECT_EQ(CardRows(), 1);
}

TEST_P(CardsTest, FiveWrongOtpsLockAndRemoveThePendingCard) {
  tsp_.StepUp(DemoBankPan(3));
  HttpAnswer a = AddCard(session_, "phone-1", DemoBankPan(3), "k1");
  std::string card_id = a.body["card"]["card_id"];
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Call("POST", "/v1/cards/" + card_id + "/verify",
                   {{"otp", "00000" + std::to_string(i)}}, session_, "w" + std::to_string(i))
                  .status,
              422);
  }
  HttpAnswer locked =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", "999999"}}, session_, "w9");
  EXPECT_EQ(locked.status, 423);
  EXPECT_EQ(locked.body["error"], "otp_locked");
  EXPECT_EQ(Call("GET", "/v1/cards/" + card_id, nullptr, session_).status, 404);
  EXPECT_EQ(CardRows(), 0);
}

TEST_P(CardsTest, HceKeysAreReplenishedOnlyForTheUsersActiveHceToken) {
  ASSERT_EQ(RegisterDevice(session_, "watch-1", "watch", 'B', "hce").status, 201);
  HttpAnswer a = AddCard(session_, "watch-1", DemoBankPan(7), "k-hce");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const std::string card_id = a.body["card"]["card_id"];
  HttpAnswer keys =
      Call("POST", "/v1/cards/" + card_id + "/devices/watch-1/keys", {{"count", 10}}, session_);
  ASSERT_EQ(keys.status, 200) << keys.body.dump();
  EXPECT_EQ(keys.body["device_id"], "watch-1");
  EXPECT_EQ(keys.body["credentials"].get<std::string>().rfind("BA7C10", 0), 0u);

  // A count outside 1-64 is refused by name; a secure-element device needs no keys.
  HttpAnswer too_many =
      Call("POST", "/v1/cards/" + card_id + "/devices/watch-1/keys", {{"count", 65}}, session_);
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(too_many.body["field"], "count");
  HttpAnswer phone = AddCard(session_, "phone-1", DemoBankPan(8), "k-se");
  ASSERT_EQ(phone.status, 201) << phone.body.dump();
  HttpAnswer se = Call("POST",
                       "/v1/cards/" + phone.body["card"]["card_id"].get<std::string>() +
                           "/devices/phone-1/keys",
                       {{"count", 10}}, session_);
  EXPECT_EQ(se.status, 409) << se.body.dump();

  // Another user sees neither the card nor the device.
  const std::string other = SignUpAndIn(kPhoneB);
  HttpAnswer theirs =
      Call("POST", "/v1/cards/" + card_id + "/devices/watch-1/keys", {{"count", 10}}, other);
  EXPECT_EQ(theirs.status, 404);
}

TEST_P(CardsTest, RedCardReturnsTheReasonAndLeavesNoCardRow) {
  tsp_.Decline(DemoBankPan(4), "cvv2_mismatch");
  HttpAnswer a = AddCard(session_, "phone-1", DemoBankPan(4), "k1");
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body["error"], "card_declined");
  EXPECT_EQ(a.body["decline_reason"], "cvv2_mismatch");
  EXPECT_EQ(CardRows(), 0);
  EXPECT_EQ(Call("GET", "/v1/cards", nullptr, session_).body["cards"].size(), 0u);
}

TEST_P(CardsTest, BadCardInputNamesTheFieldAndNeverReachesTheTsp) {
  json body = CardBody("phone-1", DemoBankPan(5));
  std::string bad_luhn = DemoBankPan(5);
  bad_luhn.back() = static_cast<char>('0' + (bad_luhn.back() - '0' + 1) % 10);
  body["pan"] = bad_luhn;
  EXPECT_EQ(Call("POST", "/v1/cards", body, session_, "b1").body["field"], "pan");
  body = CardBody("phone-1", DemoBankPan(5));
  body["expiry"] = "2812";
  EXPECT_EQ(Call("POST", "/v1/cards", body, session_, "b2").body["field"], "expiry");
  body = CardBody("phone-1", DemoBankPan(5));
  body["cvv2"] = "12";
  EXPECT_EQ(Call("POST", "/v1/cards", body, session_, "b3").body["field"], "cvv2");
  body = CardBody("phone-1", "5555555555554444");  // no product for this BIN
  HttpAnswer unsupported = Call("POST", "/v1/cards", body, session_, "b4");
  EXPECT_EQ(unsupported.status, 400);
  EXPECT_EQ(unsupported.body["field"], "pan");
  EXPECT_EQ(tsp_.provision_calls(), 0);
  EXPECT_EQ(CardRows(), 0);
}

TEST_P(CardsTest, AtMostEightBankCardsPerAccount) {
  for (int i = 0; i < static_cast<int>(kBankCardsPerAccountMax); ++i) {
    ASSERT_EQ(AddCard(session_, "phone-1", DemoBankPan(10 + i), "k" + std::to_string(i)).status,
              201);
  }
  HttpAnswer ninth = AddCard(session_, "phone-1", DemoBankPan(99), "k9");
  EXPECT_EQ(ninth.status, 409);
  EXPECT_EQ(ninth.body["field"], "card");
  EXPECT_EQ(tsp_.provision_calls(), 8);
  EXPECT_EQ(CardRows(), 8);
  // Removing one makes room again.
  std::string first = Call("GET", "/v1/cards", nullptr, session_).body["cards"][0]["card_id"];
  EXPECT_EQ(Call("DELETE", "/v1/cards/" + first, nullptr, session_).status, 200);
  EXPECT_EQ(AddCard(session_, "phone-1", DemoBankPan(99), "k10").status, 201);
}

TEST_P(CardsTest, FirstCardIsDefaultSetDefaultAndDeletingTheDefaultPicksAnother) {
  std::string c1 = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  clock_.AdvanceMillis(1);
  std::string c2 = AddCard(session_, "phone-1", DemoBankPan(2), "k2").body["card"]["card_id"];
  clock_.AdvanceMillis(1);
  std::string c3 = AddCard(session_, "phone-1", kVisaTestPan, "k3").body["card"]["card_id"];
  auto defaults = [&] {
    std::vector<std::string> out;
    HttpAnswer list = Call("GET", "/v1/cards", nullptr, session_);
    for (const json& c : list.body["cards"]) {
      if (c["is_default"] == true) out.push_back(c["card_id"]);
    }
    return out;
  };
  EXPECT_EQ(defaults(), std::vector<std::string>{c1});
  EXPECT_EQ(Call("POST", "/v1/cards/" + c3 + "/default", nullptr, session_).body["is_default"],
            true);
  EXPECT_EQ(defaults(), std::vector<std::string>{c3});
  HttpAnswer del = Call("DELETE", "/v1/cards/" + c3, nullptr, session_);
  EXPECT_EQ(del.status, 200) << del.body.dump();
  EXPECT_EQ(tsp_.state_calls().back(), "delete:tok-3");
  EXPECT_EQ(defaults(), std::vector<std::string>{c1});  // the oldest card left
  EXPECT_EQ(Call("DELETE", "/v1/cards/" + c1, nullptr, session_).status, 200);
  EXPECT_EQ(defaults(), std::vector<std::string>{c2});
}

TEST_P(CardsTest, AddToWatchGivesThatDeviceItsOwnTokenAndCredentials) {
  ASSERT_EQ(RegisterDevice(session_, "watch-1", "watch", 'B').status, 201);
  std::string card_id = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  HttpAnswer w =
      Call("POST", "/v1/cards/" + card_id + "/devices", {{"device_id", "watch-1"}}, session_, "d1");
  ASSERT_EQ(w.status, 201) << w.body.dump();
  EXPECT_EQ(w.body["credentials"], "C0FFEE2");
  ASSERT_EQ(w.body["card"]["tokens"].size(), 2u);
  EXPECT_EQ(w.body["card"]["tokens"][1]["device_id"], "watch-1");
  HttpAnswer twice =
      Call("POST", "/v1/cards/" + card_id + "/devices", {{"device_id", "watch-1"}}, session_, "d2");
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(tsp_.add_device_calls(), 1);
}

TEST_P(CardsTest, TransactionsMergeTheCardsTokensNewestFirst) {
  ASSERT_EQ(RegisterDevice(session_, "watch-1", "watch", 'B').status, 201);
  std::string card_id = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  ASSERT_EQ(
      Call("POST", "/v1/cards/" + card_id + "/devices", {{"device_id", "watch-1"}}, session_, "d1")
          .status,
      201);
  auto tx = [](std::int64_t time, std::int64_t amount, const char* merchant, bool approved) {
    TokenTransaction t;
    t.time_unix_ms = time;
    t.amount_minor = amount;
    t.currency = "CNY";
    t.merchant = merchant;
    t.approved = approved;
    return t;
  };
  tsp_.AddTransaction("tok-1", tx(100, 1250, "Demo Coffee", true));
  tsp_.AddTransaction("tok-2", tx(200, 300, "Metro", true));
  tsp_.AddTransaction("tok-1", tx(300, 99, "Kiosk", false));
  HttpAnswer a = Call("GET", "/v1/cards/" + card_id + "/transactions", nullptr, session_);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.body["transactions"].size(), 3u);
  EXPECT_EQ(a.body["transactions"][0]["merchant"], "Kiosk");
  EXPECT_EQ(a.body["transactions"][1]["device_id"], "watch-1");
  EXPECT_EQ(a.body["transactions"][2]["amount_minor"], 1250);
}

TEST_P(CardsTest, PromotionsComeFromTheProductTable) {
  std::string card_id = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  HttpAnswer a = Call("GET", "/v1/cards/" + card_id + "/promotions", nullptr, session_);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["bank_name"], "China Demo Bank");
  EXPECT_EQ(a.body["promotions"], json({"10% off at Demo Coffee", "Metro rides 2 CNY"}));
}

TEST_P(CardsTest, IssuerSuspensionShowsAfterTheNotificationFeedIsPulled) {
  std::string card_id = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  tsp_.IssuerSuspend("tok-1");
  HttpAnswer list = Call("GET", "/v1/cards", nullptr, session_);
  EXPECT_EQ(list.body["token_states_synced"], true);
  EXPECT_EQ(list.body["cards"][0]["tokens"][0]["state"], "suspended");
  auto again = service_->SyncTokenStates();  // the cursor moved: nothing new
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(CardsTest);

}  // namespace
}  // namespace tapstack::wallet::testing
