// The POS terminal against a scripted switch (a MessageHandler the test controls, over an
// in-memory link that can lose requests and responses), and end to end against the real Switch.
#include "acquirer/pos_terminal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "iso8583/codec.h"
#include "iso8583/original_data_elements.h"
#include "iso8583/response.h"
#include "network/fake_peers.h"
#include "network/switch.h"
#include "store/sqlite_store.h"

namespace tapstack::acquirer {
namespace {

using testing_peers::FaultyLink;
using testing_peers::ScriptedPeer;

constexpr char kAcquirer[] = "48100000";
constexpr char kPan[] = "6222020000000001";

// 2026-03-05T14:07:09Z: day of year 63 (0-based).
constexpr std::int64_t kMarch5 =
    1'767'225'600'000 + 63LL * 86'400'000 + (14 * 3600 + 7 * 60 + 9) * 1000LL;

TerminalConfig Config() {
  TerminalConfig c;
  c.terminal_id = "TERM0001";
  c.merchant_id = "MERCHANT0000001";
  c.name_location = "Test shop, Shanghai";
  c.mcc = "5411";
  c.country_numeric = 156;
  c.acquirer_id = kAcquirer;
  return c;
}

acquirer::Purchase Sale(std::int64_t minor, const Currency& currency = Cny(),
                        bool single_message = false) {
  acquirer::Purchase p;
  p.pan = kPan;
  p.amount = Amount(minor, currency);
  p.single_message = single_message;
  return p;
}

// A credit to the card (a refund, a wallet's withdrawal to the card): an 0200 with DE3 "200000".
acquirer::Purchase Refund(std::int64_t minor, const Currency& currency = Cny()) {
  acquirer::Purchase p = Sale(minor, currency, /*single_message=*/true);
  p.processing_code = std::string(kProcessingRefund);
  return p;
}

// Answers a 0500 with the totals it carried (in balance) or with `network` (out of balance).
iso8583::Message AnswerReconciliation(const iso8583::Message& request,
                                      const network::ReconciliationTotals* network) {
  iso8583::Message response = iso8583::ResponseTo(request, "00");
  response.Set(50, *request.Get(50));
  if (network == nullptr) {
    for (int f : {74, 75, 76, 77, 86, 87, 88, 89, 97}) response.Set(f, *request.Get(f));
    response.Set(66, "1");
  } else {
    EXPECT_TRUE(network->WriteTo(response).ok());
    response.Set(66, "2");
  }
  return response;
}

class PosTerminalTest : public ::testing::Test {
 protected:
  PosTerminalTest() : clock_(kMarch5), link_(switch_), terminal_(Config(), link_, clock_) {}

  PurchaseResult Buy(const acquirer::Purchase& p) {
    std::promise<PurchaseResult> done;
    terminal_.Purchase(p, [&done](PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  Result<iso8583::Message> Complete(const std::string& stan, const Amount& amount) {
    std::promise<Result<iso8583::Message>> done;
    terminal_.Complete(stan, amount,
                       [&done](Result<iso8583::Message> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  Result<ReconciliationResult> Close(const Currency& currency) {
    std::promise<Result<ReconciliationResult>> done;
    terminal_.CloseBatch(currency,
                         [&done](Result<ReconciliationResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  ManualClock clock_;
  ScriptedPeer switch_;
  FaultyLink link_;
  PosTerminal terminal_;
};

TEST_F(PosTerminalTest, BuildRequestFields) {
  acquirer::Purchase tap = Sale(12'345, Usd());
  tap.entry = EntryMode::kContactless;
  tap.expiry = "2812";
  tap.icc_data = std::string("\x9f\x26\x08\x01\x02\x03\x04\x05\x06\x07\x08", 11);
  iso8583::Message m = terminal_.BuildRequest(tap, "000123");
  EXPECT_EQ(m.mti(), "0100");
  EXPECT_EQ(*m.Get(2), kPan);
  EXPECT_EQ(*m.Get(3), "000000");
  EXPECT_EQ(*m.Get(4), "000000012345");
  EXPECT_EQ(*m.Get(7), "0305140709");
  EXPECT_EQ(*m.Get(11), "000123");
  EXPECT_EQ(*m.Get(12), "140709");
  EXPECT_EQ(*m.Get(13), "0305");
  EXPECT_EQ(*m.Get(14), "2812");
  EXPECT_EQ(*m.Get(18), "5411");
  EXPECT_EQ(*m.Get(19), "156");
  EXPECT_EQ(*m.Get(22), "071");
  EXPECT_EQ(*m.Get(25), "00");
  EXPECT_EQ(*m.Get(32), kAcquirer);
  EXPECT_EQ(*m.Get(37), "063140000123");
  EXPECT_EQ(*m.Get(41), "TERM0001");
  EXPECT_EQ(*m.Get(42), "MERCHANT0000001");
  EXPECT_EQ(m.Get(43)->size(), 40u);
  EXPECT_EQ(m.Get(43)->substr(0, 19), "Test shop, Shanghai");
  EXPECT_EQ(*m.Get(49), "840");
  EXPECT_EQ(m.Get(55)->size(), 11u);
  std::string wire;
  EXPECT_TRUE(iso8583::Pack(m, iso8583::AsciiProfile(), wire).ok());

  iso8583::Message online =
      terminal_.BuildRequest(Sale(100, Cny(), /*single_message=*/true), "000124");
  EXPECT_EQ(online.mti(), "0200");
  EXPECT_EQ(*online.Get(22), "812");
  EXPECT_EQ(*online.Get(25), "59");
  EXPECT_FALSE(online.Has(14));
  EXPECT_FALSE(online.Has(55));
  EXPECT_EQ(*online.Get(49), "156");
}

TEST_F(PosTerminalTest, StanAndRrnAreUnique) {
  std::set<std::string> stans, rrns;
  constexpr int kPurchases = 1'000;
  for (int i = 0; i < kPurchases; ++i) {
    PurchaseResult r = Buy(Sale(100 + i));
    ASSERT_TRUE(r.approved());
    EXPECT_EQ(r.stan.size(), 6u);
    EXPECT_EQ(r.rrn.size(), 12u);
    stans.insert(r.stan);
    rrns.insert(r.rrn);
  }
  EXPECT_EQ(stans.size(), static_cast<std::size_t>(kPurchases));
  EXPECT_EQ(rrns.size(), static_cast<std::size_t>(kPurchases));
  // The switch saw the same STANs the terminal reported.
  std::set<std::string> seen;
  for (const auto& m : switch_.Received("0100")) seen.insert(std::string(*m.Get(11)));
  EXPECT_EQ(seen, stans);
}

TEST_F(PosTerminalTest, TimeoutSendsAReversal) {
  link_.time_out_next = 1;  // the switch gets the sale, its answer is lost
  PurchaseResult r = Buy(Sale(8'800));
  EXPECT_FALSE(r.response.ok());
  EXPECT_EQ(r.response.status().code(), ErrorCode::kUnavailable);
  auto reversals = switch_.Received("0400");
  ASSERT_EQ(reversals.size(), 1u);
  const iso8583::Message sale = switch_.Received("0100").at(0);
  EXPECT_EQ(*reversals[0].Get(11), *sale.Get(11));
  EXPECT_EQ(*reversals[0].Get(4), "000000008800");
  auto original = iso8583::OriginalDataElements::Parse(*reversals[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->mti, "0100");
  EXPECT_EQ(original->stan, *sale.Get(11));
  EXPECT_EQ(original->transmission_time, *sale.Get(7));
  EXPECT_EQ(original->acquirer_id, kAcquirer);
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.unknown, 1);
  EXPECT_EQ(t.approved, 0);
  // Acknowledged: counted as a debit and its reversal, nothing approved net.
  EXPECT_EQ(t.by_currency["CNY"].debits, 1);
  EXPECT_EQ(t.by_currency["CNY"].debit_reversals, 1);
  EXPECT_EQ(t.by_currency["CNY"].debit_reversals_minor, 8'800);
  EXPECT_EQ(t.approved_minor["CNY"], 0);
}

TEST_F(PosTerminalTest, ReversalRepeatsAs0401AndGivesUpAfterTheLimit) {
  link_.drop_next = 3;  // the sale and the first two reversals never arrive
  EXPECT_FALSE(Buy(Sale(500)).response.ok());
  EXPECT_TRUE(switch_.Received("0400").empty());
  auto repeats = switch_.Received("0401");
  ASSERT_EQ(repeats.size(), 1u);
  EXPECT_EQ(terminal_.reversals_sent(), 3u);
  EXPECT_EQ(terminal_.totals().by_currency["CNY"].debit_reversals, 1);

  link_.set_up(false);  // nothing gets through: stops after reversal_attempts_max
  EXPECT_FALSE(Buy(Sale(600)).response.ok());
  EXPECT_EQ(terminal_.reversals_sent(),
            3u + static_cast<std::uint64_t>(Config().reversal_attempts_max));
  EXPECT_EQ(terminal_.totals().by_currency["CNY"].debit_reversals,
            1);  // not acknowledged: not counted
}

TEST_F(PosTerminalTest, TotalsPerCurrency) {
  switch_.Decide([](const iso8583::Message& r) {
    return iso8583::ResponseTo(r, *r.Get(4) == "000000000999" ? "51" : "00");
  });
  ASSERT_TRUE(Buy(Sale(1'000)).approved());
  ASSERT_TRUE(Buy(Sale(2'500, Cny(), true)).approved());
  ASSERT_TRUE(Buy(Sale(700, Usd())).approved());
  EXPECT_EQ(Buy(Sale(999)).response_code(), "51");
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.approved, 3);
  EXPECT_EQ(t.declined, 1);
  EXPECT_EQ(t.unknown, 0);
  EXPECT_EQ(t.approved_minor["CNY"], 3'500);
  EXPECT_EQ(t.approved_minor["USD"], 700);
  EXPECT_EQ(t.by_currency["CNY"].debits, 2);
  EXPECT_EQ(t.by_currency["CNY"].debits_minor, 3'500);
  EXPECT_EQ(t.by_currency["USD"].debits, 1);
}

TEST_F(PosTerminalTest, CreditProcessingCodes) {
  EXPECT_TRUE(IsCreditProcessingCode(kProcessingRefund));
  EXPECT_TRUE(IsCreditProcessingCode("201000"));
  EXPECT_FALSE(IsCreditProcessingCode(kProcessingPurchase));
  EXPECT_FALSE(IsCreditProcessingCode("2000"));
  EXPECT_FALSE(IsCreditProcessingCode("20000X"));
  iso8583::Message m = terminal_.BuildRequest(Refund(4'200), "000321");
  EXPECT_EQ(m.mti(), "0200");
  EXPECT_EQ(*m.Get(3), "200000");
  EXPECT_EQ(*m.Get(4), "000000004200");
}

TEST_F(PosTerminalTest, ApprovedCreditCountsAsACreditNotAsASale) {
  switch_.Decide([](const iso8583::Message& r) {
    return iso8583::ResponseTo(r, *r.Get(4) == "000000000999" ? "14" : "00");
  });
  ASSERT_TRUE(Buy(Sale(5'000)).approved());
  PurchaseResult refund = Buy(Refund(1'500));
  ASSERT_TRUE(refund.approved());
  EXPECT_EQ(*switch_.Received("0200").at(0).Get(3), "200000");
  EXPECT_EQ(Buy(Refund(999)).response_code(), "14");  // declined: not counted
  ASSERT_TRUE(Buy(Refund(300, Usd())).approved());
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.approved, 3);
  EXPECT_EQ(t.declined, 1);
  EXPECT_EQ(t.approved_minor["CNY"], 5'000);  // sales only
  EXPECT_FALSE(t.approved_minor.contains("USD"));
  network::ReconciliationTotals cny;
  cny.debits = 1;
  cny.debits_minor = 5'000;
  cny.credits = 1;
  cny.credits_minor = 1'500;
  EXPECT_EQ(t.by_currency["CNY"], cny) << t.by_currency["CNY"].ToString();
  EXPECT_EQ(t.by_currency["USD"].credits_minor, 300);
  EXPECT_EQ(t.by_currency["USD"].debits, 0);
  EXPECT_EQ(t.by_currency["CNY"].NetMinor(), 3'500);
}

TEST_F(PosTerminalTest, CreditWithAnUnknownOutcomeIsReversedAsACredit) {
  link_.time_out_next = 1;  // the switch gets the credit, its answer is lost
  PurchaseResult r = Buy(Refund(6'600));
  EXPECT_EQ(r.response.status().code(), ErrorCode::kUnavailable);
  auto reversals = switch_.Received("0400");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(3), "200000");  // the issuer must know it undoes a credit
  EXPECT_EQ(*reversals[0].Get(4), "000000006600");
  auto original = iso8583::OriginalDataElements::Parse(*reversals[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->mti, "0200");
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.unknown, 1);
  network::ReconciliationTotals expected;
  expected.credits = 1;
  expected.credits_minor = 6'600;
  expected.credit_reversals = 1;
  expected.credit_reversals_minor = 6'600;
  EXPECT_EQ(t.by_currency["CNY"], expected) << t.by_currency["CNY"].ToString();
  EXPECT_FALSE(t.approved_minor.contains("CNY"));
}

TEST_F(PosTerminalTest, CreditThatCannotBeSentIsRefusedWithoutSending) {
  acquirer::Purchase dual = Refund(100);
  dual.single_message = false;  // a credit is never an authorisation
  PurchaseResult r = Buy(dual);
  EXPECT_EQ(r.response.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.response.status().message().find("DE3"), std::string::npos)
      << r.response.status().ToString();
  acquirer::Purchase malformed = Sale(100);
  malformed.processing_code = "2000";
  EXPECT_EQ(Buy(malformed).response.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(switch_.Received().empty());
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.approved + t.declined + t.unknown, 0);
  EXPECT_TRUE(t.by_currency.empty());
}

TEST_F(PosTerminalTest, CompleteSendsAnAdviceNamingTheAuthorisation) {
  switch_.Decide([](const iso8583::Message& r) {
    iso8583::Message out = iso8583::ResponseTo(r, "00");
    if (r.mti() == "0100") out.Set(38, "123456");
    return out;
  });
  PurchaseResult auth = Buy(Sale(10'000));
  ASSERT_TRUE(auth.approved());
  clock_.AdvanceMillis(3'600'000);
  link_.drop_next = 2;  // 0220 and the first 0221 are lost
  auto done = Complete(auth.stan, Amount(6'000, Cny()));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->mti(), "0230");
  EXPECT_TRUE(switch_.Received("0220").empty());
  auto advices = switch_.Received("0221");
  ASSERT_EQ(advices.size(), 1u);
  const iso8583::Message& advice = advices[0];
  const iso8583::Message original = switch_.Received("0100").at(0);
  EXPECT_EQ(*advice.Get(2), kPan);
  EXPECT_EQ(*advice.Get(4), "000000006000");
  EXPECT_NE(*advice.Get(11), auth.stan);    // a message of its own
  EXPECT_EQ(*advice.Get(7), "0305150709");  // sent an hour later
  EXPECT_EQ(*advice.Get(37), *original.Get(37));
  EXPECT_EQ(*advice.Get(38), "123456");
  EXPECT_EQ(*advice.Get(49), "156");
  auto ode = iso8583::OriginalDataElements::Parse(*advice.Get(90));
  ASSERT_TRUE(ode.ok());
  EXPECT_EQ(ode->mti, "0100");
  EXPECT_EQ(ode->stan, auth.stan);
  EXPECT_EQ(ode->transmission_time, *original.Get(7));
  EXPECT_EQ(ode->acquirer_id, kAcquirer);
  // The batch now counts the captured amount, and the authorisation cannot be completed twice.
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.approved_minor["CNY"], 6'000);
  EXPECT_EQ(t.by_currency["CNY"].debits, 1);
  EXPECT_EQ(t.by_currency["CNY"].debits_minor, 6'000);
  EXPECT_EQ(Complete(auth.stan, Amount(5'000, Cny())).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosTerminalTest, CompleteRefusesWhatItCannotSend) {
  PurchaseResult auth = Buy(Sale(10'000));
  PurchaseResult financial = Buy(Sale(10'000, Cny(), true));
  ASSERT_TRUE(auth.approved() && financial.approved());
  EXPECT_EQ(Complete("999999", Amount(1, Cny())).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Complete(financial.stan, Amount(1, Cny())).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Complete(auth.stan, Amount(10'001, Cny())).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Complete(auth.stan, Amount(0, Cny())).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Complete(auth.stan, Amount(100, Usd())).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(switch_.Received("0220").empty());
  // A switch that never acknowledges: kUnavailable after the attempts, and it can be retried.
  link_.drop_next = Config().completion_attempts_max;
  EXPECT_EQ(Complete(auth.stan, Amount(5'000, Cny())).status().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Complete(auth.stan, Amount(5'000, Cny())).ok());
}

TEST_F(PosTerminalTest, CloseBatchInBalanceResetsTheBatch) {
  iso8583::Message seen;
  switch_.Decide([&seen](const iso8583::Message& r) {
    if (r.mti() != "0500") return iso8583::ResponseTo(r, "00");
    seen = r;
    return AnswerReconciliation(r, nullptr);
  });
  PurchaseResult auth = Buy(Sale(1'000));
  ASSERT_TRUE(Buy(Sale(2'000)).approved());
  ASSERT_TRUE(Buy(Sale(300, Usd())).approved());
  auto r = Close(Cny());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->in_balance);
  EXPECT_EQ(r->terminal.debits, 2);
  EXPECT_EQ(r->terminal.debits_minor, 3'000);
  EXPECT_EQ(r->network, r->terminal);
  EXPECT_EQ(r->response.mti(), "0510");
  // The 0500 as sent.
  EXPECT_EQ(seen.mti(), "0500");
  EXPECT_EQ(*seen.Get(7), "0305140709");
  EXPECT_EQ(seen.Get(11)->size(), 6u);
  EXPECT_EQ(*seen.Get(15), "0305");
  EXPECT_EQ(*seen.Get(32), kAcquirer);
  EXPECT_EQ(*seen.Get(41), "TERM0001");
  EXPECT_EQ(*seen.Get(42), "MERCHANT0000001");
  EXPECT_EQ(*seen.Get(50), "156");
  EXPECT_EQ(*seen.Get(74), "0000000000");
  EXPECT_EQ(*seen.Get(76), "0000000002");
  EXPECT_EQ(*seen.Get(77), "0000000000");
  EXPECT_EQ(*seen.Get(88), "0000000000003000");
  EXPECT_EQ(*seen.Get(97), "C0000000000003000");
  // CNY starts again; USD is untouched; the closed batch's authorisation is no longer completable.
  BatchTotals t = terminal_.totals();
  EXPECT_FALSE(t.by_currency.contains("CNY"));
  EXPECT_FALSE(t.approved_minor.contains("CNY"));
  EXPECT_EQ(t.by_currency["USD"].debits_minor, 300);
  EXPECT_EQ(Complete(auth.stan, Amount(500, Cny())).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosTerminalTest, CloseBatchOutOfBalanceKeepsTheBatch) {
  network::ReconciliationTotals network;
  network.debits = 3;
  network.debits_minor = 4'000;
  switch_.Decide([&network](const iso8583::Message& r) {
    return r.mti() == "0500" ? AnswerReconciliation(r, &network) : iso8583::ResponseTo(r, "00");
  });
  ASSERT_TRUE(Buy(Sale(1'000)).approved());
  ASSERT_TRUE(Buy(Sale(2'000)).approved());
  auto r = Close(Cny());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->in_balance);
  EXPECT_EQ(r->network, network);
  EXPECT_EQ(r->terminal.debits, 2);
  EXPECT_EQ(terminal_.totals().by_currency["CNY"].debits, 2);
}

TEST_F(PosTerminalTest, CloseBatchRepeatsAndReportsRefusals) {
  switch_.Decide([](const iso8583::Message& r) {
    if (r.mti() == "0501") return AnswerReconciliation(r, nullptr);
    iso8583::Message refused = iso8583::ResponseTo(r, "30");
    refused.Set(44, "DE50 unknown");
    return refused;
  });
  link_.drop_next = 1;  // the 0500 is lost: the repeat (same STAN) is answered
  auto repeated = Close(Cny());
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  EXPECT_TRUE(repeated->in_balance);
  ASSERT_EQ(switch_.Received("0501").size(), 1u);

  auto refused = Close(Cny());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("DE50 unknown"), std::string::npos);
  link_.set_up(false);
  EXPECT_EQ(Close(Cny()).status().code(), ErrorCode::kUnavailable);
}

TEST_F(PosTerminalTest, ReverseAuthorizationReleasesAnApprovedAuthorisation) {
  PurchaseResult auth = Buy(Sale(10'000));
  ASSERT_TRUE(auth.approved());
  auto reverse = [this](const std::string& stan) {
    std::promise<Result<iso8583::Message>> done;
    terminal_.ReverseAuthorization(
        stan, [&done](Result<iso8583::Message> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  };
  // Not open: unknown STAN; nothing sent.
  EXPECT_EQ(reverse("999999").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(switch_.Received("0400").empty());

  // Lost twice, acknowledged at the third attempt (0400, then 0401 repeats).
  link_.drop_next = 2;
  auto reversed = reverse(auth.stan);
  ASSERT_TRUE(reversed.ok()) << reversed.status().ToString();
  EXPECT_EQ(reversed->Get(39), std::optional<std::string_view>("00"));
  EXPECT_TRUE(switch_.Received("0400").empty());
  auto repeats = switch_.Received("0401");
  ASSERT_EQ(repeats.size(), 1u);
  const iso8583::Message& reversal = repeats[0];
  const iso8583::Message original = switch_.Received("0100").at(0);
  EXPECT_EQ(*reversal.Get(2), kPan);
  EXPECT_EQ(*reversal.Get(4), "000000010000");
  EXPECT_EQ(*reversal.Get(11), auth.stan);
  EXPECT_EQ(*reversal.Get(37), *original.Get(37));
  auto ode = iso8583::OriginalDataElements::Parse(*reversal.Get(90));
  ASSERT_TRUE(ode.ok());
  EXPECT_EQ(ode->mti, "0100");
  EXPECT_EQ(ode->stan, auth.stan);
  EXPECT_EQ(ode->transmission_time, *original.Get(7));

  // The batch counts the debit and its reversal; nothing approved net. It can be neither
  // completed nor reversed again.
  BatchTotals t = terminal_.totals();
  EXPECT_EQ(t.by_currency["CNY"].debits, 1);
  EXPECT_EQ(t.by_currency["CNY"].debit_reversals, 1);
  EXPECT_EQ(t.by_currency["CNY"].debit_reversals_minor, 10'000);
  EXPECT_EQ(t.approved_minor["CNY"], 0);
  EXPECT_EQ(Complete(auth.stan, Amount(10'000, Cny())).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reverse(auth.stan).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(switch_.Received("0401").size(), 1u);
  EXPECT_TRUE(switch_.Received("0220").empty());

  // A completed authorisation cannot be reversed this way.
  PurchaseResult captured = Buy(Sale(2'000));
  ASSERT_TRUE(Complete(captured.stan, Amount(2'000, Cny())).ok());
  EXPECT_EQ(reverse(captured.stan).status().code(), ErrorCode::kNotFound);

  // A refused reversal leaves it open; a switch that never answers gives kUnavailable after the
  // attempts, and the reversal can be retried.
  PurchaseResult open = Buy(Sale(3'000));
  switch_.Decide([](const iso8583::Message& r) {
    return iso8583::ResponseTo(r, r.mti() == "0400" ? "96" : "00");
  });
  auto refused = reverse(open.stan);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->Get(39), std::optional<std::string_view>("96"));
  link_.drop_next = Config().reversal_attempts_max;
  EXPECT_EQ(reverse(open.stan).status().code(), ErrorCode::kUnavailable);
  switch_.Decide([](const iso8583::Message& r) { return iso8583::ResponseTo(r, "00"); });
  auto retried = reverse(open.stan);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->Get(39), std::optional<std::string_view>("00"));
  EXPECT_EQ(terminal_.totals().approved_minor["CNY"], 2'000);
}

// End to end: the terminal's totals and the switch's clearing records agree, whatever was
// approved, declined, completed, timed out and reversed.
class TerminalAndSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-terminal-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto bins = network::BinTable::Build(
        {{"62220200", "62220299", "48020000", network::RangeKind::kIssuer}});
    ASSERT_TRUE(bins.ok());
    auto store = store::OpenSqlite(dir_, "network");
    auto journal = store::OpenSqlite(dir_, "network_journal");
    ASSERT_TRUE(store.ok() && journal.ok());
    auto sw = network::Switch::Create({}, std::move(*bins), {}, clock_, std::move(*store),
                                      std::move(*journal));
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    sw_ = std::move(*sw);
    network::IssuerConfig issuer;
    issuer.institution_id = "48020000";
    issuer.billing_currency = &Cny();
    issuer.link = &issuer_link_;
    ASSERT_TRUE(sw_->AddIssuer(std::move(issuer)).ok());
    issuer_.Decide([](const iso8583::Message& r) {
      return iso8583::ResponseTo(r, *r.Get(4) == "000000000999" ? "51" : "00");
    });
    link_ = std::make_unique<FaultyLink>(*sw_);
    terminal_ = std::make_unique<PosTerminal>(Config(), *link_, clock_);
  }
  void TearDown() override {
    terminal_.reset();
    link_.reset();
    sw_.reset();
    std::filesystem::remove_all(dir_);
  }
  PurchaseResult Buy(const acquirer::Purchase& p) {
    auto done = std::make_shared<std::promise<PurchaseResult>>();
    terminal_->Purchase(p, [done](PurchaseResult r) { done->set_value(std::move(r)); });
    return done->get_future().get();
  }
  Result<ReconciliationResult> Close() {
    auto done = std::make_shared<std::promise<Result<ReconciliationResult>>>();
    terminal_->CloseBatch(
        Cny(), [done](Result<ReconciliationResult> r) { done->set_value(std::move(r)); });
    return done->get_future().get();
  }

  std::filesystem::path dir_;
  ManualClock clock_{kMarch5};
  ScriptedPeer issuer_;
  link::InMemoryLink issuer_link_{issuer_};
  std::unique_ptr<network::Switch> sw_;
  std::unique_ptr<FaultyLink> link_;
  std::unique_ptr<PosTerminal> terminal_;
};

TEST_F(TerminalAndSwitchTest, BatchCloseIsInBalance) {
  PurchaseResult auth = Buy(Sale(10'000));
  ASSERT_TRUE(auth.approved());
  ASSERT_TRUE(Buy(Sale(2'000, Cny(), true)).approved());
  EXPECT_EQ(Buy(Sale(999)).response_code(), "51");
  link_->time_out_next = 1;  // approved by the switch, answer lost: reversed
  EXPECT_FALSE(Buy(Sale(3'000)).response.ok());
  link_->drop_next = 1;  // never reached the switch: its reversal is recorded anyway
  EXPECT_FALSE(Buy(Sale(4'000)).response.ok());
  std::promise<Result<iso8583::Message>> completed;
  terminal_->Complete(auth.stan, Amount(7'500, Cny()), [&completed](Result<iso8583::Message> r) {
    completed.set_value(std::move(r));
  });
  auto completion = completed.get_future().get();
  ASSERT_TRUE(completion.ok()) << completion.status().ToString();
  ASSERT_EQ(*completion->Get(39), "00");

  const network::ReconciliationTotals before = terminal_->totals().by_currency["CNY"];
  EXPECT_EQ(before.debits, 4);
  EXPECT_EQ(before.debits_minor, 7'500 + 2'000 + 3'000 + 4'000);
  EXPECT_EQ(before.debit_reversals, 2);
  auto network_side = sw_->OpenBatchTotals(kAcquirer, "TERM0001", Cny());
  ASSERT_TRUE(network_side.ok());
  EXPECT_EQ(*network_side, before);

  auto r = Close();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->in_balance) << "terminal " << r->terminal.ToString() << " network "
                             << r->network.ToString();
  EXPECT_FALSE(terminal_->totals().by_currency.contains("CNY"));
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, "TERM0001", Cny()), network::ReconciliationTotals{});
  // The next batch starts empty on both sides; a sale after the close is in the next one.
  ASSERT_TRUE(Buy(Sale(1'200)).approved());
  auto next = Close();
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->in_balance);
  EXPECT_EQ(next->network.debits_minor, 1'200);
  // Settlement sees the captured amounts: 75.00 + 20.00 + 12.00.
  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->records, 3);
}

TEST_F(TerminalAndSwitchTest, CreditsAndTheirReversalsAreInBalance) {
  ASSERT_TRUE(Buy(Sale(8'000, Cny(), true)).approved());
  ASSERT_TRUE(Buy(Refund(2'000)).approved());
  link_->time_out_next = 1;  // approved by the switch, answer lost: reversed
  EXPECT_FALSE(Buy(Refund(500)).response.ok());
  link_->drop_next = 1;  // never reached the switch: its reversal is recorded anyway
  EXPECT_FALSE(Buy(Refund(700)).response.ok());
  // The reversals are acknowledged after the switch's store commit.
  for (int i = 0; i < 500 && terminal_->totals().by_currency["CNY"].credit_reversals < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const network::ReconciliationTotals terminal_side = terminal_->totals().by_currency["CNY"];
  EXPECT_EQ(terminal_side.credits, 3);
  EXPECT_EQ(terminal_side.credits_minor, 3'200);
  EXPECT_EQ(terminal_side.credit_reversals, 2);
  EXPECT_EQ(terminal_side.credit_reversals_minor, 1'200);
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, "TERM0001", Cny()), terminal_side);
  auto r = Close();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->in_balance) << "terminal " << r->terminal.ToString() << " network "
                             << r->network.ToString();
  // Settled: the sale and the one credit that stands.
  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->records, 2);
}

TEST_F(TerminalAndSwitchTest, ReversedAuthorisationIsInBalanceAndNotSettled) {
  PurchaseResult auth = Buy(Sale(10'000));
  ASSERT_TRUE(auth.approved());
  std::promise<Result<iso8583::Message>> done;
  terminal_->ReverseAuthorization(
      auth.stan, [&done](Result<iso8583::Message> r) { done.set_value(std::move(r)); });
  auto reversed = done.get_future().get();
  ASSERT_TRUE(reversed.ok()) << reversed.status().ToString();
  ASSERT_EQ(*reversed->Get(39), "00");
  // The issuer got the reversal (its hold is released).
  ASSERT_EQ(issuer_.Received("0400").size(), 1u);
  const network::ReconciliationTotals terminal_side = terminal_->totals().by_currency["CNY"];
  EXPECT_EQ(terminal_side.debit_reversals, 1);
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, "TERM0001", Cny()), terminal_side);
  auto r = Close();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->in_balance);
  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->records, 0);
}

}  // namespace
}  // namespace tapstack::acquirer
