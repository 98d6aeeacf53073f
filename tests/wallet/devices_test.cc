// Devices through the HTTP routes: register, list, location, lost / found / delete calling the
// TSP for every token, failures reported and retried.
#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

class DevicesTest : public SignedInWalletTest {
 protected:
  // Two cards on phone-1 (tok-1, tok-2), one copied to watch-1 (tok-3).
  void ThreeTokens() {
    ASSERT_EQ(RegisterDevice(session_, "watch-1", "watch", 'B').status, 201);
    std::string c1 = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
    ASSERT_EQ(AddCard(session_, "phone-1", DemoBankPan(2), "k2").status, 201);
    ASSERT_EQ(
        Call("POST", "/v1/cards/" + c1 + "/devices", {{"device_id", "watch-1"}}, session_, "d1")
            .status,
        201);
  }
};

TEST_P(DevicesTest, RegisterListAndRegisterAgainIsIdempotent) {
  HttpAnswer watch = RegisterDevice(session_, "watch-1", "watch", 'B');
  ASSERT_EQ(watch.status, 201) << watch.body.dump();
  EXPECT_EQ(watch.body["kind"], "watch");
  EXPECT_EQ(watch.body["state"], "active");
  EXPECT_TRUE(watch.body["last_location"].is_null());
  EXPECT_EQ(RegisterDevice(session_, "watch-1", "watch", 'B').status, 201);
  HttpAnswer changed = RegisterDevice(session_, "watch-1", "watch", 'C');
  EXPECT_EQ(changed.status, 409);
  HttpAnswer list = Call("GET", "/v1/devices", nullptr, session_);
  ASSERT_EQ(list.body["devices"].size(), 2u);
  EXPECT_EQ(list.body["devices"][0]["device_id"], "phone-1");
}

TEST_P(DevicesTest, RegistrationChecksEachField) {
  json body = {{"device_id", "x1"},
               {"kind", "tablet"},
               {"name", "n"},
               {"se_public_key", SeKey()},
               {"storage", "se"}};
  EXPECT_EQ(Call("POST", "/v1/devices", body, session_).body["field"], "kind");
  body["kind"] = "phone";
  body["se_public_key"] = "04ABCD";
  EXPECT_EQ(Call("POST", "/v1/devices", body, session_).body["field"], "se_public_key");
  body["se_public_key"] = SeKey();
  body["storage"] = "cloud";
  EXPECT_EQ(Call("POST", "/v1/devices", body, session_).body["field"], "storage");
  body["storage"] = "hce";
  body["device_id"] = "../etc";
  EXPECT_EQ(Call("POST", "/v1/devices", body, session_).body["field"], "device_id");
}

TEST_P(DevicesTest, ReportedLocationShowsWithItsTime) {
  clock_.AdvanceMillis(5000);
  HttpAnswer a = Call("POST", "/v1/devices/phone-1/location",
                      {{"lat_e6", 39'908'722}, {"lon_e6", 116'397'499}}, session_);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  HttpAnswer found = Call("GET", "/v1/devices/phone-1", nullptr, session_);
  EXPECT_EQ(found.body["last_location"]["lat_e6"], 39'908'722);
  EXPECT_EQ(found.body["last_location"]["lon_e6"], 116'397'499);
  EXPECT_EQ(found.body["last_location"]["time_unix_ms"], clock_.NowUnixMillis());
  HttpAnswer bad = Call("POST", "/v1/devices/phone-1/location",
                        {{"lat_e6", 90'000'001}, {"lon_e6", 0}}, session_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "lat_e6");
  HttpAnswer not_int =
      Call("POST", "/v1/devices/phone-1/location", {{"lat_e6", 39.9}, {"lon_e6", 0}}, session_);
  EXPECT_EQ(not_int.body["field"], "lat_e6");
}

TEST_P(DevicesTest, LostSuspendsEveryTokenOnThatDeviceOnlyAndFoundResumesThem) {
  ThreeTokens();
  // Lost is reported from another signed-in session (the web, say).
  HttpAnswer in = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  std::string web = in.body["session"];
  HttpAnswer lost = Call("POST", "/v1/devices/phone-1/lost", nullptr, web);
  ASSERT_EQ(lost.status, 200) << lost.body.dump();
  EXPECT_EQ(lost.body["device"]["state"], "lost");
  EXPECT_EQ(lost.body["all_succeeded"], true);
  EXPECT_EQ(tsp_.state_calls(), (std::vector<std::string>{"suspend:tok-1", "suspend:tok-2"}));
  EXPECT_EQ(tsp_.state("tok-1"), "suspended");
  EXPECT_EQ(tsp_.state("tok-3"), "active");  // the watch still pays
  // A lost device cannot get new cards.
  EXPECT_EQ(AddCard(session_, "phone-1", DemoBankPan(3), "k3").status, 409);

  HttpAnswer found = Call("POST", "/v1/devices/phone-1/found", nullptr, session_);
  ASSERT_EQ(found.status, 200) << found.body.dump();
  EXPECT_EQ(found.body["device"]["state"], "active");
  EXPECT_EQ(tsp_.state("tok-1"), "active");
  EXPECT_EQ(tsp_.state("tok-2"), "active");
}

TEST_P(DevicesTest, LostReportsWhichTokensFailedAndARetryFinishesOnlyThose) {
  ThreeTokens();
  tsp_.FailStateChanges("tok-2", true);
  HttpAnswer lost = Call("POST", "/v1/devices/phone-1/lost", nullptr, session_);
  EXPECT_EQ(lost.status, 503);
  EXPECT_EQ(lost.body["all_succeeded"], false);
  EXPECT_EQ(lost.body["device"]["state"], "lost");  // marked lost at once
  ASSERT_EQ(lost.body["tokens"].size(), 2u);
  EXPECT_EQ(lost.body["tokens"][0]["ok"], true);
  EXPECT_EQ(lost.body["tokens"][1]["token_id"], "tok-2");
  EXPECT_EQ(lost.body["tokens"][1]["ok"], false);
  EXPECT_TRUE(lost.body["tokens"][1].contains("error"));

  tsp_.FailStateChanges("tok-2", false);
  HttpAnswer retry = Call("POST", "/v1/devices/phone-1/lost", nullptr, session_);
  EXPECT_EQ(retry.status, 200) << retry.body.dump();
  EXPECT_EQ(tsp_.state("tok-2"), "suspended");
  // tok-1 was done already: the retry did not ask the TSP again.
  EXPECT_EQ(tsp_.state_calls(),
            (std::vector<std::string>{"suspend:tok-1", "suspend:tok-2", "suspend:tok-2"}));
}

TEST_P(DevicesTest, LostCountsATokenTheTspAlreadySuspendedAsDone) {
  ThreeTokens();
  tsp_.IssuerSuspend("tok-1");  // the wallet has not pulled the feed yet
  HttpAnswer lost = Call("POST", "/v1/devices/phone-1/lost", nullptr, session_);
  EXPECT_EQ(lost.status, 200) << lost.body.dump();
  EXPECT_EQ(lost.body["tokens"][0]["state"], "suspended");
}

TEST_P(DevicesTest, LostSkipsPendingTokensAndTheirOtpIsRefusedUntilFound) {
  tsp_.StepUp(DemoBankPan(1));
  std::string card_id = AddCard(session_, "phone-1", DemoBankPan(1), "k1").body["card"]["card_id"];
  HttpAnswer lost = Call("POST", "/v1/devices/phone-1/lost", nullptr, session_);
  EXPECT_EQ(lost.status, 200) << lost.body.dump();
  EXPECT_TRUE(tsp_.state_calls().empty());
  HttpAnswer verify =
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", kFakeOtp}}, session_, "v1");
  EXPECT_EQ(verify.status, 409);
  EXPECT_EQ(tsp_.otp_calls(), 0);
  ASSERT_EQ(Call("POST", "/v1/devices/phone-1/found", nullptr, session_).status, 200);
  EXPECT_EQ(
      Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", kFakeOtp}}, session_, "v2").status,
      200);
}

TEST_P(DevicesTest, DeleteDeletesEveryTokenOnTheDeviceAtTheTsp) {
  ThreeTokens();
  HttpAnswer del = Call("DELETE", "/v1/devices/phone-1", nullptr, session_);
  ASSERT_EQ(del.status, 200) << del.body.dump();
  EXPECT_EQ(del.body["device"]["state"], "deleted");
  EXPECT_EQ(tsp_.state_calls(), (std::vector<std::string>{"delete:tok-1", "delete:tok-2"}));
  EXPECT_EQ(tsp_.state("tok-3"), "active");
  EXPECT_EQ(Call("GET", "/v1/devices/phone-1", nullptr, session_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, session_).body["devices"].size(), 1u);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(DevicesTest);

}  // namespace
}  // namespace tapstack::wallet::testing
