// IdvClient: the 0100 it builds, every decision of the 0110, link failures and the STAN counter.
#include "tsp/idv_client.h"

#include <gtest/gtest.h>

#include <set>

#include "provisioning_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::FakeIdvIssuer;

class IdvClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_.AddCard(testing::kTestPanVisa);
    issuer_.AddCard(testing::kTestPanMastercard, {.block_code = "62"});
    IdvClientOptions o;
    o.clock = &clock_;
    o.timeout_ms = 500;
    auto c = IdvClient::Create(link_, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }
  IdvResult Verify(std::string_view pan_digits, std::string cvv2 = "123",
                   std::string expiry = "2812") {
    const Pan pan = testing::TestPan(pan_digits);
    IdvRequest r{&pan, std::move(expiry), std::move(cvv2), "40010000001", "phone-1"};
    auto result = client_->Verify(r, "000042");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : IdvResult{};
  }

  ManualClock clock_;
  FakeIdvIssuer issuer_;
  link::InMemoryLink link_{issuer_};
  std::unique_ptr<IdvClient> client_;
};

TEST_F(IdvClientTest, RequestCarriesTheContractFields) {
  Verify(testing::kTestPanVisa);
  const auto seen = issuer_.requests();
  ASSERT_EQ(seen.size(), 1u);
  const iso8583::Message& m = seen[0];
  EXPECT_EQ(m.mti(), "0100");
  EXPECT_EQ(m.Get(2), testing::kTestPanVisa);
  EXPECT_EQ(m.Get(3), "000000");
  EXPECT_EQ(m.Get(4), "000000000000");
  EXPECT_EQ(m.Get(7), "0101000000");  // 2026-01-01 00:00:00 UTC
  EXPECT_EQ(m.Get(11), "000042");
  EXPECT_EQ(m.Get(14), "2812");
  EXPECT_EQ(m.Get(18), "6012");
  EXPECT_EQ(m.Get(22), "010");
  EXPECT_EQ(m.Get(25), "51");
  EXPECT_EQ(m.Get(32), "00010000");
  EXPECT_EQ(m.Get(41), "TSPIDV01");
  EXPECT_EQ(m.Get(42), "TAPSTACKTSP0001");
  EXPECT_EQ(m.Get(49), "156");
  auto de48 = iso8583::TokenData::Parse(*m.Get(48));
  ASSERT_TRUE(de48.ok());
  EXPECT_EQ(de48->Get("C2"), "123");
  EXPECT_EQ(de48->Get("PV"), "1");
  EXPECT_EQ(de48->Get("TR"), "40010000001");
  EXPECT_EQ(de48->Get("DI"), "phone-1");
}

TEST_F(IdvClientTest, GreenAndYellow) {
  issuer_.set_decision("G");
  IdvResult g = Verify(testing::kTestPanVisa);
  EXPECT_EQ(g.decision, IdvDecision::kGreen);
  EXPECT_EQ(g.response_code, "85");
  issuer_.set_decision("Y");
  EXPECT_EQ(Verify(testing::kTestPanVisa).decision, IdvDecision::kYellow);
}

TEST_F(IdvClientTest, RedReasons) {
  IdvResult unknown = Verify(testing::kTestPanVisa2);
  EXPECT_EQ(unknown.decision, IdvDecision::kRed);
  EXPECT_EQ(unknown.response_code, "14");
  EXPECT_EQ(unknown.reason, IdvDeclineReason::kCardUnknown);
  IdvResult expired = Verify(testing::kTestPanVisa, "123", "2901");
  EXPECT_EQ(expired.response_code, "54");
  EXPECT_EQ(expired.reason, IdvDeclineReason::kCardExpired);
  IdvResult cvv = Verify(testing::kTestPanVisa, "999");
  EXPECT_EQ(cvv.response_code, "N7");
  EXPECT_EQ(IdvDeclineReasonName(cvv.reason), "cvv2_mismatch");
  IdvResult blocked = Verify(testing::kTestPanMastercard);
  EXPECT_EQ(blocked.response_code, "62");
  EXPECT_EQ(blocked.reason, IdvDeclineReason::kCardBlocked);
}

TEST_F(IdvClientTest, DeclineCodesMapToReasons) {
  const std::pair<const char*, IdvDeclineReason> cases[] = {
      {"41", IdvDeclineReason::kCardBlocked},
      {"43", IdvDeclineReason::kCardBlocked},
      {"05", IdvDeclineReason::kIssuerDeclined},
  };
  for (const auto& [code, reason] : cases) {
    iso8583::Message m("0110");
    m.Set(11, "000001");
    m.Set(39, code);
    IdvResult r = ParseIdvResponse(m, "000001");
    EXPECT_EQ(r.decision, IdvDecision::kRed) << code;
    EXPECT_EQ(r.reason, reason) << code;
  }
  // An approval without IV is a step-up, never a green.
  iso8583::Message bare("0110");
  bare.Set(11, "000001");
  bare.Set(39, "85");
  EXPECT_EQ(ParseIdvResponse(bare, "000001").decision, IdvDecision::kYellow);
  // The answer to another STAN is not this request's answer.
  EXPECT_EQ(ParseIdvResponse(bare, "000002").decision, IdvDecision::kUnavailable);
}

TEST_F(IdvClientTest, IssuerUnreachableIsUnavailable) {
  issuer_.set_down(true);
  IdvResult r = Verify(testing::kTestPanVisa);
  EXPECT_EQ(r.decision, IdvDecision::kUnavailable);
  EXPECT_EQ(r.response_code, "91");
  EXPECT_EQ(r.reason, IdvDeclineReason::kIssuerUnavailable);
  issuer_.set_down(false);
  link_.set_up(false);
  EXPECT_EQ(Verify(testing::kTestPanVisa).decision, IdvDecision::kUnavailable);
}

// A link that never answers: Verify gives up after its timeout.
class SilentLink final : public link::RequestSender {
 public:
  void Send(iso8583::Message, link::ResponseCallback done) override { kept_ = std::move(done); }
  bool ready() const override { return true; }
  link::ResponseCallback kept_;
};

TEST_F(IdvClientTest, TimeoutIsUnavailableAndLateAnswerIsHarmless) {
  SilentLink silent;
  IdvClientOptions o;
  o.clock = &clock_;
  o.timeout_ms = 30;
  auto client = IdvClient::Create(silent, o);
  ASSERT_TRUE(client.ok());
  const Pan pan = testing::TestPan(testing::kTestPanVisa);
  auto r = (*client)->Verify({&pan, "2812", "123", "40010000001", "phone-1"}, "000001");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decision, IdvDecision::kUnavailable);
  ASSERT_TRUE(silent.kept_);
  silent.kept_(Unavailable("late"));  // after Verify returned: must not crash
}

TEST_F(IdvClientTest, BadFieldsAreNamed) {
  const Pan pan = testing::TestPan(testing::kTestPanVisa);
  auto r = client_->Verify({&pan, "2812", "12", "40010000001", "phone-1"}, "000001");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("cvv2:", 0), 0u);
  EXPECT_EQ(r.status().message().find("12"), std::string::npos);
  auto e = client_->Verify({&pan, "2813", "123", "40010000001", "phone-1"}, "000001");
  EXPECT_EQ(e.status().message().rfind("pan_expiry:", 0), 0u);
  EXPECT_TRUE(issuer_.requests().empty());
}

class IdvStanTest : public store::testing::StoreTest {};

TEST_P(IdvStanTest, UniqueAcrossReopenAndRestartsNextDay) {
  ManualClock clock;
  auto counter = IdvStanCounter::Open(*store_, clock);
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  EXPECT_EQ(*(*counter)->Next(), "000001");
  EXPECT_EQ(*(*counter)->Next(), "000002");
  counter->reset();
  Reopen();
  auto again = IdvStanCounter::Open(*store_, clock);
  ASSERT_TRUE(again.ok());
  // A restart the same day does not repeat a STAN: it skips the rest of the reserved block.
  EXPECT_EQ(*(*again)->Next(), "001001");
  clock.AdvanceMillis(24 * 3600 * 1000);
  EXPECT_EQ(*(*again)->Next(), "000001");
}

TEST_P(IdvStanTest, OneCommitPerBlockOfStans) {
  ManualClock clock;
  auto counter = IdvStanCounter::Open(*store_, clock);
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  const std::int64_t commits_before = store_->stats().transactions_committed;
  std::set<std::string> seen;
  for (std::int64_t i = 0; i < kIdvStanBlockStans + 1; ++i) {
    auto stan = (*counter)->Next();
    ASSERT_TRUE(stan.ok()) << stan.status().ToString();
    EXPECT_TRUE(seen.insert(*stan).second) << *stan;
  }
  EXPECT_EQ(*seen.rbegin(), "001001");
  // The first block and the second: two commits for 1,001 STANs.
  EXPECT_EQ(store_->stats().transactions_committed - commits_before, 2);
  auto stored = store_->QueryRow("SELECT last_stan FROM tsp_idv_stan WHERE id = 1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored->GetInt64(0), 2 * kIdvStanBlockStans);
}

TEST_P(IdvStanTest, TheLastBlockOfADayEndsAtTheDailyMaximum) {
  ManualClock clock;
  auto counter = IdvStanCounter::Open(*store_, clock);
  ASSERT_TRUE(counter.ok());
  ASSERT_EQ(*(*counter)->Next(), "000001");
  // As if the day had used all but the last 10 STANs before a restart.
  ASSERT_TRUE(store_->Execute("UPDATE tsp_idv_stan SET last_stan = ? WHERE id = 1",
                              {kIdvStansPerDayMax - 10})
                  .ok());
  counter->reset();
  auto again = IdvStanCounter::Open(*store_, clock);
  ASSERT_TRUE(again.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*again)->Next().ok());
  auto over = (*again)->Next();
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange) << over.status().ToString();
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(IdvStanTest);

}  // namespace
}  // namespace tapstack::tsp
