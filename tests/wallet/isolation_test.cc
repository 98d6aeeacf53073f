// Cross-user isolation: every route that takes an id answers 404 for another user's card or
// device, as if it did not exist, and never reaches the TSP.
#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

class IsolationTest : public WalletHttpTest {};

TEST_P(IsolationTest, EveryIdRouteAnswers404ForAnotherUsersIds) {
  std::string alice = SignUpAndIn(kPhoneA);
  ASSERT_EQ(RegisterDevice(alice, "alice-phone").status, 201);
  tsp_.StepUp(DemoBankPan(2));
  std::string card = AddCard(alice, "alice-phone", DemoBankPan(1), "a1").body["card"]["card_id"];
  std::string pending = AddCard(alice, "alice-phone", DemoBankPan(2), "a2").body["card"]["card_id"];
  std::string bob = SignUpAndIn(kPhoneB);
  ASSERT_EQ(RegisterDevice(bob, "bob-phone", "phone", 'B').status, 201);
  std::string bob_card = AddCard(bob, "bob-phone", DemoBankPan(3), "b1").body["card"]["card_id"];
  const int provisions = tsp_.provision_calls();
  const auto state_calls = tsp_.state_calls();

  struct Probe {
    std::string method, path;
    json body;
    bool idempotent;
  };
  const std::vector<Probe> probes = {
      {"GET", "/v1/devices/alice-phone", nullptr, false},
      {"POST", "/v1/devices/alice-phone/location", {{"lat_e6", 1}, {"lon_e6", 1}}, false},
      {"POST", "/v1/devices/alice-phone/lost", nullptr, false},
      {"POST", "/v1/devices/alice-phone/found", nullptr, false},
      {"DELETE", "/v1/devices/alice-phone", nullptr, false},
      {"GET", "/v1/cards/" + card, nullptr, false},
      {"GET", "/v1/cards/" + card + "/transactions", nullptr, false},
      {"GET", "/v1/cards/" + card + "/promotions", nullptr, false},
      {"POST", "/v1/cards/" + card + "/default", nullptr, false},
      {"POST", "/v1/cards/" + pending + "/verify", {{"otp", kFakeOtp}}, true},
      {"POST", "/v1/cards/" + card + "/devices", {{"device_id", "bob-phone"}}, true},
      {"POST", "/v1/cards/" + bob_card + "/devices", {{"device_id", "alice-phone"}}, true},
      {"POST", "/v1/cards", CardBody("alice-phone", DemoBankPan(4)), true},
      {"DELETE", "/v1/cards/" + card, nullptr, false},
  };
  int n = 0;
  for (const Probe& p : probes) {
    HttpAnswer a =
        Call(p.method, p.path, p.body, bob, p.idempotent ? "p" + std::to_string(n++) : "");
    EXPECT_EQ(a.status, 404) << p.method << " " << p.path << " " << a.body.dump();
    EXPECT_EQ(a.body["error"], "not_found") << p.method << " " << p.path;
  }
  EXPECT_EQ(tsp_.provision_calls(), provisions);
  EXPECT_EQ(tsp_.state_calls(), state_calls);
  EXPECT_EQ(tsp_.otp_calls(), 0);
  EXPECT_EQ(tsp_.add_device_calls(), 0);
  // Bob's lists hold only his own things; Alice's are unchanged.
  EXPECT_EQ(Call("GET", "/v1/cards", nullptr, bob).body["cards"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, bob).body["devices"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/cards", nullptr, alice).body["cards"].size(), 2u);
  EXPECT_EQ(Call("GET", "/v1/devices/alice-phone", nullptr, alice).body["state"], "active");
}

TEST_P(IsolationTest, ADeviceIdOfAnotherUserCannotBeRegistered) {
  std::string alice = SignUpAndIn(kPhoneA);
  ASSERT_EQ(RegisterDevice(alice, "phone-1").status, 201);
  std::string bob = SignUpAndIn(kPhoneB);
  EXPECT_EQ(RegisterDevice(bob, "phone-1").status, 409);
  EXPECT_EQ(Call("GET", "/v1/devices/phone-1", nullptr, bob).status, 404);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(IsolationTest);

}  // namespace
}  // namespace tapstack::wallet::testing
