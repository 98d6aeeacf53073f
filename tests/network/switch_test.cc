// The Switch alone: fake issuers (MessageHandlers the test controls) behind in-memory links that
// can lose or delay responses, a manual clock, SQLite stores under a temp directory.
#include "network/switch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "iso8583/original_data_elements.h"
#include "iso8583/response.h"
#include "iso8583/token_data.h"
#include "link/in_memory_link.h"
#include "network/fake_peers.h"
#include "store/fault_vfs.h"
#include "store/sqlite_store.h"

namespace tapstack::network {
namespace {

using FakeIssuer = testing_peers::ScriptedPeer;
using testing_peers::FaultyLink;

constexpr char kNetworkId[] = "00010000";
constexpr char kBankCny[] = "48020000";   // issuer billing in CNY, BIN 62220200-62220299
constexpr char kBankUsd[] = "48030000";   // USD, 62230000-62230099
constexpr char kBankJpy[] = "48040000";   // JPY, 62240000-62240099
constexpr char kBankAway[] = "48090000";  // a range whose issuer never connects: 62290000-62290099
constexpr char kAcquirer[] = "48100000";
constexpr char kTerminal[] = "TERM0001";
constexpr char kPanCny[] = "6222020000000001";
constexpr char kPanUsd[] = "6223000000000002";
constexpr char kPanJpy[] = "6224000000000003";
constexpr char kToken[] = "6500000000000009";  // token range 65000000-65000099, behind kBankCny

const Currency& Rub() { return **CurrencyByAlpha("RUB"); }
const Currency& Jpy() { return **CurrencyByAlpha("JPY"); }

std::string Digits(std::int64_t v, std::size_t width) {
  std::string s = std::to_string(v);
  return std::string(width - s.size(), '0') + s;
}

SettlementPosition Position(const SettlementReport& report, const std::string& institution,
                            const std::string& currency) {
  for (const auto& p : report.positions) {
    if (p.institution_id == institution && p.currency == currency) return p;
  }
  ADD_FAILURE() << "no position of " << institution << " in " << currency;
  return {};
}

class FakeTokenService final : public TokenService {
 public:
  Result<Detokenized> Detokenize(const iso8583::Message& request) override {
    if (request.Get(2) == std::string_view(kToken)) return Detokenized{kPanCny, "2812"};
    return NotFound("token not active");
  }
};

class SwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-switch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    for (const char* id : {kBankCny, kBankUsd, kBankJpy}) {
      issuers_[id] = std::make_unique<FakeIssuer>();
      links_[id] = std::make_unique<FaultyLink>(*issuers_[id]);
      links_[id]->late = [this, id = std::string(id)](iso8583::Message m) {
        sw_->OnLateResponse(id, std::move(m));
      };
    }
    Open("0.0790");
  }
  void TearDown() override {
    acquirer_link_.reset();
    sw_.reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)opens the switch on the same stores; `rub_cny` is the RUB→CNY rate of this run.
  void Open(const std::string& rub_cny) {
    acquirer_link_.reset();
    sw_.reset();
    auto bins = BinTable::Build({{"62220200", "62220299", kBankCny, RangeKind::kIssuer},
                                 {"62230000", "62230099", kBankUsd, RangeKind::kIssuer},
                                 {"62240000", "62240099", kBankJpy, RangeKind::kIssuer},
                                 {"62290000", "62290099", kBankAway, RangeKind::kIssuer},
                                 {"65000000", "65000099", kBankCny, RangeKind::kToken}});
    ASSERT_TRUE(bins.ok()) << bins.status().ToString();
    FxTable fx;
    const std::vector<std::tuple<const char*, const char*, std::string>> rates = {
        {"RUB", "CNY", rub_cny}, {"USD", "CNY", "7.10"},  {"JPY", "CNY", "0.048"},
        {"CNY", "USD", "0.14"},  {"RUB", "USD", "0.011"}, {"JPY", "USD", "0.0067"},
        {"CNY", "JPY", "20.5"},  {"USD", "JPY", "149.5"}, {"RUB", "JPY", "1.63"}};
    for (const auto& [from, to, rate] : rates)
      ASSERT_TRUE(fx.SetRate(from, to, rate, "test", "2026-01-01").ok());
    auto store = store::OpenSqlite(dir_, "network", network_store_options_);
    auto journal = store::OpenSqlite(dir_, "network_journal", journal_store_options_);
    ASSERT_TRUE(store.ok() && journal.ok());
    SwitchOptions options;
    options.network_institution_id = kNetworkId;
    auto sw = Switch::Create(options, std::move(*bins), std::move(fx), clock_, std::move(*store),
                             std::move(*journal));
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    sw_ = std::move(*sw);
    const std::map<std::string, const Currency*> currencies = {
        {kBankCny, &Cny()}, {kBankUsd, &Usd()}, {kBankJpy, &Jpy()}};
    for (const auto& [id, currency] : currencies) {
      IssuerConfig issuer;
      issuer.institution_id = id;
      issuer.name = "bank " + id;
      issuer.billing_currency = currency;
      issuer.link = links_[id].get();
      ASSERT_TRUE(sw_->AddIssuer(std::move(issuer)).ok());
    }
    acquirer_link_ = std::make_unique<link::InMemoryLink>(*sw_);
  }

  // Sends through the acquirer's link (packed and unpacked like TCP) and waits for the answer.
  iso8583::Message Send(const iso8583::Message& m) {
    auto done = std::make_shared<std::promise<Result<iso8583::Message>>>();
    auto future = done->get_future();
    acquirer_link_->Send(m, [done](Result<iso8583::Message> r) { done->set_value(std::move(r)); });
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer to " << m.mti();
      return iso8583::Message("0000");
    }
    auto r = future.get();
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      return iso8583::Message("0000");
    }
    return std::move(*r);
  }
  // For content the codec would refuse before it reaches the switch.
  iso8583::Message SendDirect(const iso8583::Message& m) {
    std::promise<iso8583::Message> done;
    sw_->OnRequest(m, [&done](iso8583::Message r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  static iso8583::Message Auth(const std::string& pan, std::int64_t minor, const Currency& currency,
                               const std::string& stan, const std::string& terminal = kTerminal,
                               const std::string& acquirer = kAcquirer) {
    iso8583::Message m("0100");
    m.Set(2, pan);
    m.Set(3, "000000");
    m.Set(4, Digits(minor, 12));
    m.Set(7, "0101120000");
    m.Set(11, stan);
    m.Set(12, "120000");
    m.Set(13, "0101");
    m.Set(18, "5411");
    m.Set(19, "156");
    m.Set(22, "071");
    m.Set(25, "00");
    m.Set(32, acquirer);
    m.Set(37, "001120" + stan);
    m.Set(41, terminal);
    m.Set(42, "MERCHANT0000001");
    m.Set(43, "Test shop, Shanghai");
    m.Set(49, Digits(currency.numeric, 3));
    return m;
  }
  // A credit to the card (a refund): an 0200 with DE3 "200000", as acquirer/pos_terminal.cc builds
  // it.
  static iso8583::Message Credit(const std::string& pan, std::int64_t minor,
                                 const Currency& currency, const std::string& stan,
                                 const std::string& terminal = kTerminal) {
    iso8583::Message m = Auth(pan, minor, currency, stan, terminal);
    m.set_mti("0200");
    m.Set(3, "200000");
    return m;
  }
  static iso8583::Message Sale(const std::string& pan, std::int64_t minor, const Currency& currency,
                               const std::string& stan, const std::string& terminal = kTerminal) {
    iso8583::Message m = Auth(pan, minor, currency, stan, terminal);
    m.set_mti("0200");
    return m;
  }
  static iso8583::Message Reversal(const iso8583::Message& original) {
    iso8583::Message r("0400");
    for (int f : {2, 3, 4, 7, 11, 32, 41, 42, 49}) {
      if (auto v = original.Get(f)) r.Set(f, *v);
    }
    r.Set(90, *iso8583::OriginalDataElements{std::string(original.mti()),
                                             std::string(*original.Get(11)),
                                             std::string(*original.Get(7)),
                                             std::string(*original.Get(32)), ""}
                   .ToField());
    return r;
  }
  static iso8583::Message Completion(const iso8583::Message& original, std::int64_t final_minor,
                                     const std::string& stan) {
    iso8583::Message c("0220");
    for (int f : {2, 3, 18, 32, 37, 41, 42, 49}) {
      if (auto v = original.Get(f)) c.Set(f, *v);
    }
    c.Set(4, Digits(final_minor, 12));
    c.Set(7, "0101180000");
    c.Set(11, stan);
    c.Set(90, *iso8583::OriginalDataElements{"0100", std::string(*original.Get(11)),
                                             std::string(*original.Get(7)),
                                             std::string(*original.Get(32)), ""}
                   .ToField());
    return c;
  }
  iso8583::Message Reconciliation(const ReconciliationTotals& t, const Currency& currency,
                                  const std::string& stan,
                                  const std::string& terminal = kTerminal) {
    iso8583::Message m("0500");
    m.Set(7, "0101235900");
    m.Set(11, stan);
    m.Set(15, "0101");
    m.Set(32, kAcquirer);
    m.Set(41, terminal);
    m.Set(42, "MERCHANT0000001");
    m.Set(50, Digits(currency.numeric, 3));
    EXPECT_TRUE(t.WriteTo(m).ok());
    return m;
  }

  std::vector<ClearingRecord> Records(const std::string& terminal = "") {
    auto r = sw_->ClearingRecords(
        {.acquirer_id = "", .terminal_id = terminal, .current_cycle_only = true});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ClearingRecord>{};
  }

  std::filesystem::path dir_;
  store::StoreOptions network_store_options_;  // the switch's store (not its journal)
  store::StoreOptions journal_store_options_;  // its message journal
  ManualClock clock_;
  std::map<std::string, std::unique_ptr<FakeIssuer>> issuers_;
  std::map<std::string, std::unique_ptr<FaultyLink>> links_;
  std::unique_ptr<Switch> sw_;
  std::unique_ptr<link::InMemoryLink> acquirer_link_;
};

TEST_F(SwitchTest, RoutesByBinAndAnswers15WithoutAnIssuer) {
  EXPECT_EQ(*Send(Auth(kPanCny, 1'000, Cny(), "000001")).Get(39), "00");
  EXPECT_EQ(*Send(Auth(kPanUsd, 1'000, Usd(), "000002")).Get(39), "00");
  ASSERT_EQ(issuers_[kBankCny]->Received("0100").size(), 1u);
  EXPECT_EQ(*issuers_[kBankCny]->Received("0100")[0].Get(2), kPanCny);
  ASSERT_EQ(issuers_[kBankUsd]->Received("0100").size(), 1u);
  EXPECT_EQ(*issuers_[kBankUsd]->Received("0100")[0].Get(2), kPanUsd);
  EXPECT_TRUE(issuers_[kBankJpy]->Received().empty());
  // A range whose issuer never connected, and a card in no range.
  iso8583::Message away = Send(Auth("6229000000000004", 1'000, Cny(), "000003"));
  EXPECT_EQ(*away.Get(39), "15");
  EXPECT_NE(away.Get(44)->find(kBankAway), std::string_view::npos);
  EXPECT_EQ(*Send(Auth("6011000990139424", 1'000, Cny(), "000004")).Get(39), "15");
  EXPECT_EQ(Records().size(), 2u);  // only the approvals
}

TEST_F(SwitchTest, ResponseEchoesTheAcquirersFieldsAndForwardsConversion) {
  // The issuer answers with other matching fields: the acquirer still sees its own.
  issuers_[kBankCny]->Decide([](const iso8583::Message& r) {
    iso8583::Message out = iso8583::ResponseTo(r, "00");
    out.Set(11, "999999");
    out.Set(41, "OTHER001");
    out.Set(7, "1231235959");
    out.Set(32, "11111111");
    return out;
  });
  iso8583::Message request = Auth(kPanCny, 10'000, Usd(), "000010");  // 100.00 USD on a CNY card
  iso8583::Message response = Send(request);
  EXPECT_EQ(response.mti(), "0110");
  EXPECT_EQ(*response.Get(39), "00");
  for (int f : {2, 7, 11, 32, 41}) EXPECT_EQ(*response.Get(f), *request.Get(f)) << "DE" << f;
  auto forwarded = issuers_[kBankCny]->Received("0100");
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(*forwarded[0].Get(33), kNetworkId);
  // 100.00 USD × 7.10 × 1.01 = 717.10 CNY.
  EXPECT_EQ(*forwarded[0].Get(6), "000000071710");
  EXPECT_EQ(*forwarded[0].Get(51), "156");
  EXPECT_EQ(*response.Get(6), "000000071710");
}

TEST_F(SwitchTest, DuplicateGets94AndARepeatTheStoredResponse) {
  iso8583::Message request = Auth(kPanCny, 500, Cny(), "000777");
  iso8583::Message first = Send(request);
  ASSERT_EQ(*first.Get(39), "00");
  EXPECT_EQ(*Send(request).Get(39), "94");
  iso8583::Message repeat = request;
  repeat.set_mti("0101");
  iso8583::Message repeated = Send(repeat);
  EXPECT_EQ(*repeated.Get(39), "00");
  EXPECT_EQ(*repeated.Get(38), *first.Get(38));
  EXPECT_EQ(issuers_[kBankCny]->Received().size(), 1u);  // authorised once
  EXPECT_EQ(sw_->stats().duplicates.load(), 1u);
}

TEST_F(SwitchTest, StandInWithinLimitsAdviceStoredAndRepeatedUntilAcknowledged) {
  links_[kBankCny]->set_up(false);
  iso8583::Message sale = Auth(kPanCny, 30'000, Cny(), "000020");
  sale.Set(48, "C2003739WI002W1");  // a CVV2 (never stored) next to other DE48 data
  iso8583::Message approved = Send(sale);
  EXPECT_EQ(*approved.Get(39), "00");
  EXPECT_EQ(approved.Get(38)->substr(0, 1), "S");
  EXPECT_EQ(*Send(Auth(kPanCny, 60'000, Cny(), "000021")).Get(39), "91");  // above 500.00
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].stand_in);

  // The advice is durable: a restarted switch still has it.
  Open("0.0790");
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  // The first delivery is lost; the second goes as a repeat (0121) and is acknowledged.
  links_[kBankCny]->set_up(true);
  links_[kBankCny]->drop_next = 1;
  sw_->OnIssuerReady(kBankCny);
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  EXPECT_TRUE(issuers_[kBankCny]->Received().empty());
  sw_->OnIssuerReady(kBankCny);
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  auto advices = issuers_[kBankCny]->Received();
  ASSERT_EQ(advices.size(), 1u);
  EXPECT_EQ(advices[0].mti(), "0121");
  EXPECT_EQ(*advices[0].Get(38), *approved.Get(38));
  EXPECT_EQ(*advices[0].Get(4), "000000030000");
  EXPECT_EQ(*advices[0].Get(48), "WI002W1") << "the stored advice must not carry the CVV2";
  // Delivered once: nothing more on the next retry round.
  sw_->DeliverStoredAdvices();
  EXPECT_EQ(issuers_[kBankCny]->Received().size(), 1u);
}

TEST_F(SwitchTest, StandInAnswersOutliveARestartSoALateCopyIsNotForwarded) {
  // The issuer never saw these requests: after a restart only the switch's store knows they were
  // answered. A link can deliver a request twice, the copy late (tapstack sim seed 820).
  links_[kBankCny]->set_up(false);
  const iso8583::Message refused = Auth(kPanCny, 60'000, Cny(), "000025");    // above 500.00
  const iso8583::Message approved = Auth(kPanCny, 30'000, Cny(), "000026");   // within it
  ASSERT_EQ(*Send(refused).Get(39), "91");
  const iso8583::Message approval = Send(approved);
  ASSERT_EQ(*approval.Get(39), "00");

  Open("0.0790");
  links_[kBankCny]->set_up(true);
  EXPECT_EQ(*Send(refused).Get(39), "94");
  EXPECT_EQ(*Send(approved).Get(39), "94");
  iso8583::Message repeat = refused;
  repeat.set_mti("0101");
  EXPECT_EQ(*Send(repeat).Get(39), "91");
  repeat = approved;
  repeat.set_mti("0101");
  const iso8583::Message repeated = Send(repeat);
  EXPECT_EQ(*repeated.Get(39), "00");
  EXPECT_EQ(*repeated.Get(38), *approval.Get(38));
  EXPECT_TRUE(issuers_[kBankCny]->Received("0100").empty()) << "no copy reached the issuer";

  // Past the duplicate window (a day) they are forgotten at the next start, as any answer is.
  clock_.AdvanceMillis(25LL * 3600 * 1000);
  Open("0.0790");
  EXPECT_EQ(*Send(refused).Get(39), "00");
  EXPECT_EQ(issuers_[kBankCny]->Received("0100").size(), 1u);
}

TEST_F(SwitchTest, TimeoutStandsInAndALateApprovalIsReversed) {
  links_[kBankCny]->time_out_next = 1;
  iso8583::Message request = Auth(kPanCny, 10'000, Cny(), "000030");
  iso8583::Message response = Send(request);
  EXPECT_EQ(*response.Get(39), "00");
  EXPECT_EQ(response.Get(38)->substr(0, 1), "S");  // stand-in, not the issuer's late "A00001"
  // The issuer approved after the timeout: the switch reverses its approval.
  auto reversals = issuers_[kBankCny]->Received("0400");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(39), "68");
  auto original = iso8583::OriginalDataElements::Parse(*reversals[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->mti, "0100");
  EXPECT_EQ(original->stan, "000030");
  EXPECT_EQ(sw_->stats().late_reversals.load(), 1u);

  // Over the stand-in limit, a timeout is a decline; a late decline is not reversed.
  issuers_[kBankCny]->Decide(
      [](const iso8583::Message& r) { return iso8583::ResponseTo(r, "51"); });
  links_[kBankCny]->time_out_next = 1;
  EXPECT_EQ(*Send(Auth(kPanCny, 60'000, Cny(), "000031")).Get(39), "91");
  EXPECT_EQ(issuers_[kBankCny]->Received("0400").size(), 1u);
}

TEST_F(SwitchTest, AnApprovalWhoseClearingRecordFailsToCommitIsLeftToTheAcquirersReversal) {
  store::RegisterFaultVfs();
  network_store_options_.sqlite_vfs = store::kFaultVfsName;
  Open("0.0790");
  const iso8583::Message request = Auth(kPanCny, 10'000, Cny(), "000040");
  auto answers = std::make_shared<std::atomic<int>>(0);
  store::testing::SetSyncFails(true);
  acquirer_link_->Send(request, [answers](Result<iso8583::Message>) { ++*answers; });
  sw_->WaitIdle();
  store::testing::SetSyncFails(false);
  ASSERT_EQ(issuers_[kBankCny]->Received("0100").size(), 1u);  // the issuer approved and holds
  EXPECT_EQ(sw_->stats().unanswered_store_failures.load(), 1u);
  EXPECT_EQ(sw_->Health().code(), ErrorCode::kIoError);  // `tapstack serve` exits to restart
  // Neither "00" (nothing durable backs it) nor "96" (the record may be on disk after all).
  EXPECT_EQ(answers->load(), 0);
  // The store now refuses every write, so the repeat is left unanswered too.
  iso8583::Message repeat = request;
  repeat.set_mti("0101");
  acquirer_link_->Send(repeat, [answers](Result<iso8583::Message>) { ++*answers; });
  sw_->WaitIdle();
  EXPECT_EQ(answers->load(), 0);

  // Restarted, the switch takes the acquirer's timeout reversal: the issuer releases its hold, and
  // whether or not the record reached the disk, nothing of it settles.
  Open("0.0790");
  EXPECT_TRUE(sw_->Health().ok()) << sw_->Health().ToString();
  EXPECT_EQ(*Send(Reversal(request)).Get(39), "00");
  auto reversals = issuers_[kBankCny]->Received("0400");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(11), "000040");
  for (const ClearingRecord& r : Records()) EXPECT_TRUE(r.reversed) << r.record_id;
  EXPECT_EQ(answers->load(), 0) << "the first incarnation never answers";
}

TEST_F(SwitchTest, AJournalThatFailsACommitTurnsHealthToAnIoErrorButAnswersStand) {
  // The journal is written after the answer: its failed commit changes no answer, but its store
  // now refuses every write, so Health asks for a restart (`tapstack serve` exits).
  store::RegisterFaultVfs();
  journal_store_options_.sqlite_vfs = store::kFaultVfsName;
  Open("0.0790");
  store::testing::SetSyncFails(true);
  EXPECT_EQ(*Send(Auth(kPanCny, 10'000, Cny(), "000045")).Get(39), "00");
  sw_->WaitIdle();
  store::testing::SetSyncFails(false);
  const Status health = sw_->Health();
  EXPECT_EQ(health.code(), ErrorCode::kIoError);
  EXPECT_NE(health.message().find("journal"), std::string::npos) << health.ToString();
  EXPECT_EQ(sw_->stats().unanswered_store_failures.load(), 0u);
  EXPECT_EQ(Records().size(), 1u) << "the clearing record is on the switch's own store";
  Open("0.0790");  // restarted: journaling again
  EXPECT_TRUE(sw_->Health().ok()) << sw_->Health().ToString();
  EXPECT_EQ(*Send(Auth(kPanCny, 10'000, Cny(), "000046")).Get(39), "00");
  sw_->WaitIdle();
  EXPECT_TRUE(sw_->Health().ok()) << sw_->Health().ToString();
}

TEST_F(SwitchTest, ReversalIsForwardedAndExcludedFromSettlement) {
  iso8583::Message kept = Auth(kPanCny, 7'000, Cny(), "000040");
  iso8583::Message undone = Auth(kPanCny, 3'000, Cny(), "000041");
  ASSERT_EQ(*Send(kept).Get(39), "00");
  ASSERT_EQ(*Send(undone).Get(39), "00");
  iso8583::Message ack = Send(Reversal(undone));
  EXPECT_EQ(ack.mti(), "0410");
  EXPECT_EQ(*ack.Get(39), "00");
  auto forwarded = issuers_[kBankCny]->Received("0400");
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(*forwarded[0].Get(33), kNetworkId);
  EXPECT_EQ(*forwarded[0].Get(11), "000041");

  // A reversal that overtakes its original: acknowledged, recorded, and the original arriving
  // afterwards is approved but never settled.
  iso8583::Message overtaken = Auth(kPanCny, 5'000, Cny(), "000042");
  EXPECT_EQ(*Send(Reversal(overtaken)).Get(39), "00");
  EXPECT_EQ(*Send(overtaken).Get(39), "00");

  auto records = Records();
  ASSERT_EQ(records.size(), 3u);
  int reversed = 0;
  for (const auto& r : records) reversed += r.reversed ? 1 : 0;
  EXPECT_EQ(reversed, 2);
  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 1);
  EXPECT_EQ(Position(*report, kAcquirer, "CNY").as_acquirer_minor, 7'000);
  EXPECT_EQ(Position(*report, kBankCny, "CNY").as_issuer_minor, -7'000);
}

TEST_F(SwitchTest, CompletionSettlesTheCapturedAmountAtTheAuthorisationsRate) {
  // 1,000.00 RUB on a CNY card at 0.0790 + 1%: 79.79 CNY held.
  iso8583::Message auth = Auth(kPanCny, 100'000, Rub(), "000050");
  iso8583::Message approved = Send(auth);
  ASSERT_EQ(*approved.Get(39), "00");
  EXPECT_EQ(*approved.Get(6), "000000007979");
  // The rate moves before the completion arrives (a restart with new rates).
  Open("0.0900");
  iso8583::Message done = Send(Completion(auth, 60'000, "000051"));
  EXPECT_EQ(done.mti(), "0230");
  EXPECT_EQ(*done.Get(39), "00");
  auto advices = issuers_[kBankCny]->Received("0220");
  ASSERT_EQ(advices.size(), 1u);
  EXPECT_EQ(*advices[0].Get(4), "000000060000");
  // 600.00 RUB × 0.0790 × 1.01 = 47.874 → 47.87 CNY: the authorisation's rate, not 0.0900.
  EXPECT_EQ(*advices[0].Get(6), "000000004787");
  EXPECT_EQ(*advices[0].Get(10), "70797900");
  EXPECT_EQ(*advices[0].Get(51), "156");
  EXPECT_EQ(*advices[0].Get(33), kNetworkId);
  EXPECT_EQ(*advices[0].Get(90), *Completion(auth, 1, "000000").Get(90));
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].completed);
  EXPECT_EQ(records[0].authorized_amount_minor, 100'000);
  EXPECT_EQ(records[0].txn_amount_minor, 60'000);
  EXPECT_EQ(records[0].billing_amount_minor, 4'787);

  // A repeat gets the stored answer; the issuer is not advised twice.
  iso8583::Message repeat = Completion(auth, 60'000, "000051");
  repeat.set_mti("0221");
  EXPECT_EQ(*Send(repeat).Get(39), "00");
  EXPECT_EQ(issuers_[kBankCny]->Received("0220").size(), 1u);

  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->records, 1);
  EXPECT_EQ(Position(*report, kAcquirer, "RUB").as_acquirer_minor, 60'000);
  EXPECT_EQ(Position(*report, kBankCny, "CNY").as_issuer_minor, -4'787);
}

TEST_F(SwitchTest, CompletionErrors) {
  iso8583::Message auth = Auth(kPanCny, 10'000, Cny(), "000060");
  ASSERT_EQ(*Send(auth).Get(39), "00");
  iso8583::Message unknown =
      Send(Completion(Auth(kPanCny, 10'000, Cny(), "000069"), 5'000, "000061"));
  EXPECT_EQ(*unknown.Get(39), "25");
  EXPECT_EQ(*Send(Completion(auth, 10'001, "000062")).Get(39), "13");
  iso8583::Message rub = Completion(auth, 5'000, "000063");
  rub.Set(49, "643");
  iso8583::Message wrong_currency = Send(rub);
  EXPECT_EQ(*wrong_currency.Get(39), "30");
  EXPECT_EQ(*wrong_currency.Get(44), "DE49 not the original's");
  iso8583::Message no_amount = Completion(auth, 5'000, "000064");
  no_amount.Clear(4);
  EXPECT_EQ(*Send(no_amount).Get(44), "DE4 missing");
  ASSERT_EQ(*Send(Reversal(auth)).Get(39), "00");
  iso8583::Message after_reversal = Send(Completion(auth, 5'000, "000065"));
  EXPECT_EQ(*after_reversal.Get(39), "12");
  EXPECT_TRUE(issuers_[kBankCny]->Received("0220").empty());
  EXPECT_EQ(Records()[0].txn_amount_minor, 10'000);
}

TEST_F(SwitchTest, CompletionWhileTheIssuerIsAwayIsStoredAndForwarded) {
  iso8583::Message auth = Auth(kPanUsd, 20'000, Usd(), "000070");
  ASSERT_EQ(*Send(auth).Get(39), "00");
  links_[kBankUsd]->set_up(false);
  EXPECT_EQ(*Send(Completion(auth, 15'000, "000071")).Get(39), "00");
  EXPECT_EQ(Records()[0].txn_amount_minor, 15'000);
  EXPECT_EQ(sw_->PendingAdvices()[kBankUsd], 1);
  links_[kBankUsd]->set_up(true);
  sw_->OnIssuerReady(kBankUsd);
  EXPECT_EQ(sw_->PendingAdvices()[kBankUsd], 0);
  auto advices = issuers_[kBankUsd]->Received("0220");
  ASSERT_EQ(advices.size(), 1u);
  EXPECT_EQ(*advices[0].Get(4), "000000015000");
  EXPECT_FALSE(advices[0].Has(6));  // same currency: nothing to convert
}

TEST_F(SwitchTest, ReconciliationInAndOutOfBalance) {
  issuers_[kBankCny]->Decide([](const iso8583::Message& r) {
    return iso8583::ResponseTo(r, *r.Get(4) == "000000000999" ? "51" : "00");
  });
  iso8583::Message second = Auth(kPanCny, 2'000, Cny(), "000081");
  ASSERT_EQ(*Send(Auth(kPanCny, 1'000, Cny(), "000080")).Get(39), "00");
  ASSERT_EQ(*Send(second).Get(39), "00");
  ASSERT_EQ(*Send(Auth(kPanCny, 3'000, Cny(), "000082")).Get(39), "00");
  ASSERT_EQ(*Send(Auth(kPanCny, 999, Cny(), "000083")).Get(39), "51");    // declined: not counted
  ASSERT_EQ(*Send(Auth(kPanUsd, 4'000, Usd(), "000084")).Get(39), "00");  // other currency
  ASSERT_EQ(*Send(Auth(kPanCny, 5'000, Cny(), "000085", "TERM0002")).Get(39),
            "00");  // other terminal
  ASSERT_EQ(*Send(Reversal(second)).Get(39), "00");

  ReconciliationTotals expected;
  expected.debits = 3;
  expected.debits_minor = 6'000;
  expected.debit_reversals = 1;
  expected.debit_reversals_minor = 2'000;
  auto ours = sw_->OpenBatchTotals(kAcquirer, kTerminal, Cny());
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_EQ(*ours, expected);

  // Out of balance: the terminal missed a sale. The 0510 carries the network's totals.
  ReconciliationTotals short_one = expected;
  short_one.debits = 2;
  short_one.debits_minor = 3'000;
  iso8583::Message out = Send(Reconciliation(short_one, Cny(), "000090"));
  EXPECT_EQ(out.mti(), "0510");
  EXPECT_EQ(*out.Get(39), "00");
  EXPECT_EQ(*out.Get(66), "2");
  EXPECT_EQ(*out.Get(76), "0000000003");
  EXPECT_EQ(*out.Get(88), "0000000000006000");
  EXPECT_EQ(*out.Get(77), "0000000001");
  EXPECT_EQ(*out.Get(89), "0000000000002000");
  EXPECT_EQ(*out.Get(97), "C0000000000004000");
  EXPECT_EQ(*out.Get(50), "156");
  EXPECT_EQ(*out.Get(15), "0101");
  EXPECT_EQ(*out.Get(41), kTerminal);
  EXPECT_EQ(sw_->stats().reconciliations_out_of_balance.load(), 1u);
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, kTerminal, Cny()), expected);  // nothing closed

  // In balance: answered "1" and the batch is closed on the switch too.
  iso8583::Message in = Send(Reconciliation(expected, Cny(), "000091"));
  EXPECT_EQ(*in.Get(66), "1");
  auto read = ReconciliationTotals::ReadFrom(in);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, expected);
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, kTerminal, Cny()), ReconciliationTotals{});
  EXPECT_EQ(*Send(Reconciliation({}, Cny(), "000092")).Get(66), "1");
  // The other currency and the other terminal are still open.
  EXPECT_EQ(sw_->OpenBatchTotals(kAcquirer, kTerminal, Usd())->debits_minor, 4'000);
  EXPECT_EQ(sw_->OpenBatchTotals(kAcquirer, "TERM0002", Cny())->debits_minor, 5'000);
  EXPECT_EQ(*Send(Reconciliation({}, Usd(), "000093")).Get(66), "2");
  // Reconciliation closes batches, not the settlement cycle.
  EXPECT_EQ(sw_->CutOff()->records, 4);
}

TEST_F(SwitchTest, ReconciliationFormatErrorsDuplicatesAndRepeats) {
  iso8583::Message no_currency = Reconciliation({}, Cny(), "000100");
  no_currency.Clear(50);
  iso8583::Message r = Send(no_currency);
  EXPECT_EQ(*r.Get(39), "30");
  EXPECT_EQ(*r.Get(44), "DE50 missing");
  iso8583::Message bad_net = Reconciliation({}, Cny(), "000101");
  bad_net.Set(97, "C0000000000000001");
  EXPECT_EQ(*Send(bad_net).Get(44), "DE97 != net of DE86-DE89");
  iso8583::Message bad_count = Reconciliation({}, Cny(), "000102");
  bad_count.Set(76, "12x");
  EXPECT_EQ(*SendDirect(bad_count).Get(44), "DE76: expected 10 digits");
  iso8583::Message bad_date = Reconciliation({}, Cny(), "000103");
  bad_date.Set(15, "1340");
  EXPECT_EQ(*Send(bad_date).Get(44), "DE15: expected MMDD");
  iso8583::Message unknown_currency = Reconciliation({}, Cny(), "000104");
  unknown_currency.Set(50, "999");
  EXPECT_EQ(*Send(unknown_currency).Get(44), "DE50 unknown");
  EXPECT_EQ(sw_->stats().format_errors.load(), 5u);

  iso8583::Message close = Reconciliation({}, Cny(), "000105");
  EXPECT_EQ(*Send(close).Get(66), "1");
  EXPECT_EQ(*Send(close).Get(39), "94");
  iso8583::Message repeat = close;
  repeat.set_mti("0501");
  iso8583::Message stored = Send(repeat);
  EXPECT_EQ(*stored.Get(39), "00");
  EXPECT_EQ(*stored.Get(66), "1");
}

TEST_F(SwitchTest, TokenRangeWithoutTokenServiceIsDeclined15) {
  iso8583::Message r = Send(Auth(kToken, 1'000, Cny(), "000110"));
  EXPECT_EQ(*r.Get(39), "15");
  EXPECT_EQ(*r.Get(44), "no token service");
  EXPECT_EQ(*r.Get(2), kToken);
  EXPECT_TRUE(issuers_[kBankCny]->Received().empty());
  EXPECT_EQ(sw_->stats().token_declines.load(), 1u);
  // Its reversal is acknowledged but not forwarded with a token in DE2.
  EXPECT_EQ(*Send(Reversal(Auth(kToken, 1'000, Cny(), "000110"))).Get(39), "00");
  EXPECT_TRUE(issuers_[kBankCny]->Received().empty());
}

TEST_F(SwitchTest, TokenServiceStepMapsTheTokenBothWays) {
  FakeTokenService tsp;
  sw_->SetTokenService(&tsp);
  iso8583::Message response = Send(Auth(kToken, 1'000, Cny(), "000120"));
  EXPECT_EQ(*response.Get(39), "00");
  EXPECT_EQ(*response.Get(2), kToken);  // the acquirer never sees the funding PAN
  auto forwarded = issuers_[kBankCny]->Received("0100");
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(*forwarded[0].Get(2), kPanCny);
  EXPECT_EQ(*forwarded[0].Get(14), "2812");
  auto data = iso8583::TokenData::Parse(*forwarded[0].Get(48));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data->Get(iso8583::token_tag::kToken), kToken);
  // Unknown token: 14.
  EXPECT_EQ(*Send(Auth("6500000000000010", 1'000, Cny(), "000121")).Get(39), "14");
  // A TK sent by an acquirer is not trusted: it does not change DE2 of the answer.
  iso8583::Message forged = Auth(kPanUsd, 1'000, Usd(), "000122");
  iso8583::TokenData tk;
  tk.Set(iso8583::token_tag::kToken, "6500000000000011");
  forged.Set(48, *tk.ToField());
  EXPECT_EQ(*Send(forged).Get(2), kPanUsd);
}

TEST_F(SwitchTest, AFollowUpWhoseTokenCannotBeMappedBackForNowIsLeftForTheAcquirerToRepeat) {
  // The TSP down (or its store failing) when a reversal, a completion or a repeat of a token
  // payment comes: without the funding PAN the issuer cannot hear of it, so no acknowledgement
  // (which would leave its hold behind the acquirer's back) and no partial state; the acquirer
  // repeats it.
  class SwitchableTsp final : public TokenService {
   public:
    Result<Detokenized> Detokenize(const iso8583::Message& request) override {
      if (down) return Unavailable("tsp restarting");
      return inner.Detokenize(request);
    }
    FakeTokenService inner;
    std::atomic<bool> down{false};
  } tsp;
  sw_->SetTokenService(&tsp);
  const iso8583::Message auth = Auth(kToken, 10'000, Cny(), "000130");
  ASSERT_EQ(*Send(auth).Get(39), "00");

  tsp.down = true;
  auto answers = std::make_shared<std::atomic<int>>(0);
  auto count = [answers](Result<iso8583::Message>) { ++*answers; };
  const iso8583::Message reversal = Reversal(auth);
  acquirer_link_->Send(reversal, count);
  iso8583::Message repeat = reversal;
  repeat.set_mti("0401");
  acquirer_link_->Send(repeat, count);  // processed again, not parked behind the first copy
  acquirer_link_->Send(Completion(auth, 6'000, "000131"), count);
  // A repeat the switch has no answer for (its first copy's answer lost, the window with it after
  // a restart) may follow an approval: no decline either. An original books nothing: 91.
  iso8583::Message unknown_repeat = Auth(kToken, 2'000, Cny(), "000132");
  unknown_repeat.set_mti("0101");
  acquirer_link_->Send(unknown_repeat, count);
  sw_->WaitIdle();
  EXPECT_EQ(answers->load(), 0);
  EXPECT_EQ(sw_->stats().unanswered_token_outages.load(), 4u);
  EXPECT_EQ(*Send(Auth(kToken, 2'000, Cny(), "000133")).Get(39), "91");
  EXPECT_EQ(issuers_[kBankCny]->Received().size(), 1u) << "only the authorisation";
  EXPECT_TRUE(sw_->Health().ok()) << "the switch's own store is fine";
  for (const ClearingRecord& r : Records()) EXPECT_FALSE(r.reversed) << "nothing recorded yet";

  tsp.down = false;
  EXPECT_EQ(*Send(repeat).Get(39), "00");
  auto reversals = issuers_[kBankCny]->Received("0401");  // forwarded as the acquirer sent it
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(2), kPanCny);
  for (const ClearingRecord& r : Records()) EXPECT_TRUE(r.reversed) << r.record_id;
}

// The TSP's token-provisioning ID&V (docs/ISO8583.md): an account-verification 0100 with DE48 PV.
iso8583::Message IdvRequest(const std::string& pan, const std::string& stan) {
  iso8583::Message m("0100");
  m.Set(2, pan);
  m.Set(3, "000000");
  m.Set(4, "000000000000");
  m.Set(7, "0101120000");
  m.Set(11, stan);
  m.Set(12, "120000");
  m.Set(13, "0101");
  m.Set(14, "2812");
  m.Set(18, "6012");
  m.Set(22, "010");
  m.Set(25, "51");
  m.Set(32, kNetworkId);
  m.Set(41, "TSPIDV01");
  m.Set(42, "TAPSTACKTSP0001");
  m.Set(48, "C2003123PV0011TR01140010000001DI008DEVICE01");
  m.Set(49, "156");
  return m;
}

TEST_F(SwitchTest, IdvRequestIsRoutedAndItsAnswerPassedThrough) {
  issuers_[kBankCny]->Decide([](const iso8583::Message& r) {
    iso8583::Message out = iso8583::ResponseTo(r, "85");
    out.Set(48, "IV001Y");
    return out;
  });
  iso8583::Message response = Send(IdvRequest(kPanCny, "000200"));
  EXPECT_EQ(*response.Get(39), "85");
  EXPECT_EQ(*response.Get(48), "IV001Y");
  auto forwarded = issuers_[kBankCny]->Received("0100");
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(*forwarded[0].Get(48), *IdvRequest(kPanCny, "000200").Get(48));
  EXPECT_TRUE(Records().empty()) << "an account verification settles nothing";
}

TEST_F(SwitchTest, IdvRequestIsNeverStoodIn) {
  // Issuer not signed on: a zero-amount 0100 is within every stand-in limit, so only PV stops it.
  links_[kBankCny]->set_up(false);
  iso8583::Message down = Send(IdvRequest(kPanCny, "000210"));
  EXPECT_EQ(*down.Get(39), "91");
  EXPECT_EQ(*down.Get(44), "no stand-in for ID&V");
  // The control: the same zero-amount request without PV is approved in stand-in.
  iso8583::Message plain = IdvRequest(kPanCny, "000211");
  plain.Set(48, "TR01140010000001");
  EXPECT_EQ(*Send(plain).Get(39), "00");
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);  // the control's advice only
  EXPECT_EQ(sw_->stats().stand_in_approved.load(), 1u);

  // The issuer times out, then answers green: the TSP still got 91, no advice, no reversal.
  links_[kBankCny]->set_up(true);
  sw_->OnIssuerReady(kBankCny);  // delivers the control's advice
  ASSERT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  issuers_[kBankCny]->Decide([](const iso8583::Message& r) {
    iso8583::Message out = iso8583::ResponseTo(r, "85");
    out.Set(48, "IV001G");
    return out;
  });
  links_[kBankCny]->time_out_next = 1;
  iso8583::Message timed_out = Send(IdvRequest(kPanCny, "000212"));
  EXPECT_EQ(*timed_out.Get(39), "91");
  EXPECT_FALSE(timed_out.Has(38));
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  EXPECT_TRUE(issuers_[kBankCny]->Received("0400").empty());
  // A lost request is the same.
  links_[kBankCny]->drop_next = 1;
  EXPECT_EQ(*Send(IdvRequest(kPanCny, "000213")).Get(39), "91");
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  EXPECT_EQ(sw_->stats().stand_in_approved.load(), 1u);
  EXPECT_EQ(sw_->stats().stand_in_declined.load(), 3u);
  EXPECT_EQ(Records().size(), 1u);  // the control's stand-in approval only
}

TEST_F(SwitchTest, TokenUseOutcomesAreReportedOncePerAnsweredRequest) {
  testing_peers::RecordingTokenService tsp({{kToken, Detokenized{kPanCny, "2812"}}});
  sw_->SetTokenService(&tsp);
  issuers_[kBankCny]->Decide([](const iso8583::Message& r) {
    return iso8583::ResponseTo(r, *r.Get(4) == "000000000999" ? "51" : "00");
  });
  clock_.SetUnixMillis(1'767'225'600'123);  // 2026-01-01T00:00:00.123Z

  // Approved by the issuer.
  iso8583::Message sale = Auth(kToken, 1'000, Cny(), "000300");
  ASSERT_EQ(*Send(sale).Get(39), "00");
  auto outcomes = tsp.Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  const TokenUseOutcome& approved = outcomes[0];
  EXPECT_EQ(approved.token_number, kToken);
  EXPECT_EQ(approved.mti, "0100");
  EXPECT_EQ(approved.amount_minor, 1'000);
  EXPECT_EQ(approved.currency_numeric, 156);
  EXPECT_EQ(approved.merchant, "Test shop, Shanghai");
  EXPECT_EQ(approved.mcc, "5411");
  EXPECT_EQ(approved.pos_entry_mode, "071");
  EXPECT_EQ(approved.response_code, "00");
  EXPECT_EQ(approved.approval_code, "A00001");
  EXPECT_EQ(approved.stan, "000300");
  EXPECT_EQ(approved.terminal_id, kTerminal);
  EXPECT_EQ(approved.time_unix_ms, 1'767'225'600'123);

  // Declined by the issuer; declined by the token service (unknown token: the switch answers 14).
  ASSERT_EQ(*Send(Auth(kToken, 999, Cny(), "000301")).Get(39), "51");
  ASSERT_EQ(*Send(Auth("6500000000000010", 2'000, Usd(), "000302")).Get(39), "14");
  outcomes = tsp.Outcomes();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[1].token_number, kToken);
  EXPECT_EQ(outcomes[1].response_code, "51");
  EXPECT_EQ(outcomes[1].approval_code, "");
  EXPECT_EQ(outcomes[2].token_number, "6500000000000010");
  EXPECT_EQ(outcomes[2].response_code, "14");
  EXPECT_EQ(outcomes[2].currency_numeric, 840);
  EXPECT_EQ(outcomes[2].amount_minor, 2'000);

  // A duplicate (94) and a repeat answered from the duplicate store are not reported again;
  // nor are reversals, or card numbers outside token ranges.
  EXPECT_EQ(*Send(sale).Get(39), "94");
  iso8583::Message repeat = sale;
  repeat.set_mti("0101");
  EXPECT_EQ(*Send(repeat).Get(39), "00");
  EXPECT_EQ(*Send(Reversal(sale)).Get(39), "00");
  EXPECT_EQ(*Send(Auth(kPanCny, 500, Cny(), "000303")).Get(39), "00");
  EXPECT_EQ(tsp.Outcomes().size(), 3u);

  // A financial request answered in stand-in while the issuer is away.
  links_[kBankCny]->set_up(false);
  iso8583::Message financial = Auth(kToken, 3'000, Cny(), "000304");
  financial.set_mti("0200");
  iso8583::Message stood_in = Send(financial);
  ASSERT_EQ(*stood_in.Get(39), "00");
  EXPECT_EQ(*stood_in.Get(2), kToken);
  outcomes = tsp.Outcomes();
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(outcomes[3].mti, "0200");
  EXPECT_EQ(outcomes[3].response_code, "00");
  EXPECT_EQ(outcomes[3].approval_code, *stood_in.Get(38));
  EXPECT_EQ(outcomes[3].approval_code.substr(0, 1), "S");
  for (const TokenUseOutcome& o : outcomes) {
    EXPECT_NE(o.token_number, kPanCny) << "the funding PAN never reaches the history";
  }
}

// Property: whatever mix of banks, currencies, declines, stand-ins, reversals and completions,
// settlement positions sum to zero per currency, and the banks' acquirer and issuer legs equal
// what was approved (at captured amounts) in each currency.
TEST_F(SwitchTest, CreditIsRoutedLikeAnother0200AndRecordedAsACredit) {
  iso8583::Message credit = Credit(kPanCny, 2'500, Cny(), "000300");
  iso8583::Message response = Send(credit);
  EXPECT_EQ(response.mti(), "0210");
  EXPECT_EQ(*response.Get(39), "00");
  EXPECT_EQ(*response.Get(3), "200000");
  auto forwarded = issuers_[kBankCny]->Received("0200");
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(*forwarded[0].Get(3), "200000");
  EXPECT_EQ(*forwarded[0].Get(33), kNetworkId);
  // A token-range card: the TSP step runs as for any 0200; the issuer sees the funding PAN.
  FakeTokenService tsp;
  sw_->SetTokenService(&tsp);
  iso8583::Message to_token = Send(Credit(kToken, 1'200, Cny(), "000301"));
  EXPECT_EQ(*to_token.Get(39), "00");
  EXPECT_EQ(*to_token.Get(2), kToken);
  forwarded = issuers_[kBankCny]->Received("0200");
  ASSERT_EQ(forwarded.size(), 2u);
  EXPECT_EQ(*forwarded[1].Get(2), kPanCny);
  EXPECT_EQ(*forwarded[1].Get(3), "200000");
  // Cross-border: DE6 in the issuer's currency, as for a sale.
  ASSERT_EQ(*Send(Credit(kPanCny, 10'000, Usd(), "000302")).Get(39), "00");
  EXPECT_EQ(*issuers_[kBankCny]->Received("0200").back().Get(6), "000000071710");
  // A duplicate is refused and a repeat gets the stored answer: one credit.
  EXPECT_EQ(*Send(credit).Get(39), "94");
  iso8583::Message repeat = credit;
  repeat.set_mti("0201");
  EXPECT_EQ(*Send(repeat).Get(38), *response.Get(38));
  EXPECT_EQ(issuers_[kBankCny]->Received("0200").size(), 3u);
  EXPECT_TRUE(issuers_[kBankCny]->Received("0201").empty());
  // An issuer's decline is passed through and records nothing.
  issuers_[kBankCny]->Decide(
      [](const iso8583::Message& r) { return iso8583::ResponseTo(r, "14"); });
  EXPECT_EQ(*Send(Credit(kPanCny, 300, Cny(), "000303")).Get(39), "14");

  auto records = Records();
  ASSERT_EQ(records.size(), 3u);
  for (const ClearingRecord& r : records) {
    EXPECT_TRUE(r.credit) << r.record_id;
    EXPECT_EQ(r.original_mti, "0200");
    EXPECT_FALSE(r.stand_in);
  }
  // A sale is not a credit.
  issuers_[kBankCny]->Decide(
      [](const iso8583::Message& r) { return iso8583::ResponseTo(r, "00"); });
  ASSERT_EQ(*Send(Sale(kPanCny, 700, Cny(), "000304")).Get(39), "00");
  EXPECT_FALSE(Records().back().credit);

  // The journal has the credit (masked) both ways: close the switch so its writer has flushed.
  acquirer_link_.reset();
  sw_.reset();
  auto journal = store::OpenSqlite(dir_, "network_journal");
  ASSERT_TRUE(journal.ok());
  auto rows = (*journal)->Query(
      "SELECT direction, peer, mti, masked_pan, response_code, message_json FROM journal WHERE "
      "stan = ? "
      "ORDER BY entry_id",
      {store::Value::Text("000300")});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> seen;
  for (const store::Row& row : *rows) {
    std::string json = *row.GetText("message_json");
    EXPECT_NE(json.find("\"3\":\"200000\""), std::string::npos) << json;
    EXPECT_EQ(json.find(kPanCny), std::string::npos) << json;
    EXPECT_EQ(*row.GetText("masked_pan"), "622202******0001");
    seen.push_back(*row.GetText("direction") + " " + *row.GetText("peer") + " " +
                   *row.GetText("mti"));
  }
  const std::vector<std::string> expected = {"in acquirer 0200",
                                             "out " + std::string(kBankCny) + " 0200",
                                             "in " + std::string(kBankCny) + " 0210",
                                             "out acquirer 0210",
                                             "in acquirer 0200",
                                             "out acquirer 0210",  // the duplicate's 94
                                             "in acquirer 0201",
                                             "out acquirer 0210"};
  EXPECT_EQ(seen, expected);
}

TEST_F(SwitchTest, CreditIsNeverStoodIn) {
  // Bank CNY approves sales up to 500.00 in stand-in; a credit of 1.00 is still refused.
  links_[kBankCny]->set_up(false);
  iso8583::Message refused = Send(Credit(kPanCny, 100, Cny(), "000310"));
  EXPECT_EQ(*refused.Get(39), "91");
  EXPECT_EQ(*refused.Get(44), "no stand-in for credits");
  EXPECT_FALSE(refused.Has(38));
  EXPECT_EQ(*Send(Sale(kPanCny, 100, Cny(), "000311")).Get(39), "00");  // a sale is stood in for
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);                        // the sale's advice only
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].credit);
  links_[kBankCny]->set_up(true);
  sw_->OnIssuerReady(kBankCny);
  auto advices = issuers_[kBankCny]->Received("0220");
  ASSERT_EQ(advices.size(), 1u);
  EXPECT_EQ(*advices[0].Get(3), "000000");

  // The issuer too slow: refused, and its late approval is reversed as a credit (DE3 kept).
  links_[kBankCny]->time_out_next = 1;
  iso8583::Message slow = Credit(kPanCny, 4'000, Cny(), "000312");
  EXPECT_EQ(*Send(slow).Get(39), "91");
  // The late approval reaches the switch after the acquirer's answer (FaultyLink: time_out_next).
  for (int i = 0; i < 500 && issuers_[kBankCny]->Received("0400").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto reversals = issuers_[kBankCny]->Received("0400");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(39), "68");
  EXPECT_EQ(*reversals[0].Get(3), "200000");
  EXPECT_EQ(*reversals[0].Get(4), "000000004000");
  auto original = iso8583::OriginalDataElements::Parse(*reversals[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->mti, "0200");
  EXPECT_EQ(original->stan, "000312");
  EXPECT_EQ(Records().size(), 1u);  // no clearing record for a refused credit
  EXPECT_EQ(sw_->stats().stand_in_approved.load(), 1u);
}

TEST_F(SwitchTest, UnansweredCreditIsReversedAtTheIssuerBeforeThe91) {
  // The issuer posts the credit but its 0210 is lost for good (no late answer either): the
  // acquirer hears "91" and gives the money back, so the issuer must take the credit back.
  links_[kBankCny]->late = nullptr;
  links_[kBankCny]->time_out_next = 1;
  const iso8583::Message lost = Credit(kPanCny, 2'500, Cny(), "000315");
  const iso8583::Message refused = Send(lost);
  EXPECT_EQ(*refused.Get(39), "91");
  EXPECT_EQ(*refused.Get(44), "no stand-in for credits");
  auto wait_for_reversals = [this](std::size_t n) {
    for (int i = 0; i < 500 && (issuers_[kBankCny]->Received("0420").size() < n ||
                                sw_->PendingAdvices()[kBankCny] != 0);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return issuers_[kBankCny]->Received("0420");
  };
  ASSERT_EQ(issuers_[kBankCny]->Received("0200").size(), 1u);
  auto reversals = wait_for_reversals(1);
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(*reversals[0].Get(2), kPanCny);
  EXPECT_EQ(*reversals[0].Get(3), "200000");
  EXPECT_EQ(*reversals[0].Get(4), "000000002500");
  EXPECT_EQ(*reversals[0].Get(11), "000315");
  auto original = iso8583::OriginalDataElements::Parse(*reversals[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->mti, "0200");
  EXPECT_EQ(original->stan, "000315");
  EXPECT_EQ(original->transmission_time, *lost.Get(7));
  EXPECT_EQ(original->acquirer_id, kAcquirer);
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);  // acknowledged
  EXPECT_TRUE(Records().empty());                 // no clearing record for a refused credit

  // The link fails (the switch cannot tell before or after the issuer got it), and the first
  // delivery of the reversal fails too: the advice is durable and repeated (0421) until
  // acknowledged, also across a restart.
  links_[kBankCny]->drop_next = 2;
  EXPECT_EQ(*Send(Credit(kPanCny, 700, Cny(), "000316")).Get(39), "91");
  for (int i = 0; i < 500 && links_[kBankCny]->drop_next.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  Open("0.0790");
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  sw_->OnIssuerReady(kBankCny);
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  ASSERT_TRUE(issuers_[kBankCny]->Received("0420").size() == 1u);
  auto repeats = issuers_[kBankCny]->Received("0421");
  ASSERT_EQ(repeats.size(), 1u);
  EXPECT_EQ(*repeats[0].Get(3), "200000");
  EXPECT_EQ(*repeats[0].Get(4), "000000000700");
  original = iso8583::OriginalDataElements::Parse(*repeats[0].Get(90));
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->stan, "000316");

  // A sale that times out is still stood in for, with no reversal of it.
  links_[kBankCny]->time_out_next = 1;
  EXPECT_EQ(*Send(Sale(kPanCny, 100, Cny(), "000317")).Get(39), "00");
  EXPECT_TRUE(issuers_[kBankCny]->Received("0420").size() == 1u);
  EXPECT_TRUE(issuers_[kBankCny]->Received("0400").empty());
}

TEST_F(SwitchTest, UnansweredRequestsBeyondStandInAreReversedAtTheIssuer) {
  // Bank CNY stands in up to 500.00. An 0100 of 600.00 and an 0200 of 700.00 reach the issuer,
  // which books them, and their answers are lost for good: the acquirer hears "91", a refusal, so
  // the issuer must undo them. Each gets a durable reversal advice (0420, DE90 naming it).
  links_[kBankCny]->late = nullptr;
  const iso8583::Message auth = Auth(kPanCny, 60'000, Cny(), "000330");
  const iso8583::Message sale = Sale(kPanCny, 70'000, Cny(), "000331");
  std::size_t sent = 0;
  for (const iso8583::Message* m : {&auth, &sale}) {
    links_[kBankCny]->time_out_next = 1;
    const iso8583::Message refused = Send(*m);
    EXPECT_EQ(*refused.Get(39), "91");
    EXPECT_FALSE(refused.Has(38));
    // The switch delivers the reversal advice after its answer, on its writer thread: wait for
    // it before arming the next lost answer, which that delivery would otherwise take.
    ++sent;
    for (int i = 0; i < 500 && (issuers_[kBankCny]->Received("0420").size() < sent ||
                                sw_->PendingAdvices()[kBankCny] != 0);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const auto reversals = issuers_[kBankCny]->Received("0420");
  ASSERT_EQ(reversals.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const iso8583::Message& original_request = i == 0 ? auth : sale;
    EXPECT_EQ(*reversals[i].Get(3), "000000");
    EXPECT_EQ(*reversals[i].Get(4), *original_request.Get(4));
    EXPECT_EQ(*reversals[i].Get(39), "68");
    auto original = iso8583::OriginalDataElements::Parse(*reversals[i].Get(90));
    ASSERT_TRUE(original.ok());
    EXPECT_EQ(original->mti, original_request.mti());
    EXPECT_EQ(original->stan, *original_request.Get(11));
  }
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 0);
  EXPECT_TRUE(Records().empty());  // nothing to clear

  // Within the stand-in limit the unanswered request is approved for the bank (its advice tells
  // it), and nothing is reversed.
  links_[kBankCny]->time_out_next = 1;
  EXPECT_EQ(*Send(Auth(kPanCny, 10'000, Cny(), "000332")).Get(39), "00");
  sw_->OnIssuerReady(kBankCny);  // delivers the stand-in advice
  for (int i = 0; i < 500 && sw_->PendingAdvices()[kBankCny] != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(issuers_[kBankCny]->Received("0420").size(), 2u);
  EXPECT_EQ(issuers_[kBankCny]->Received("0120").size(), 1u);

  // A repeat (0101) this switch has no record of (it restarted) finds the issuer's link down: its
  // original may have been booked before the restart, so the refusal is reversed too. A first
  // request refused while the link is down never left, and is not.
  links_[kBankCny]->set_up(false);
  iso8583::Message repeat = Auth(kPanCny, 80'000, Cny(), "000333");
  repeat.set_mti("0101");
  EXPECT_EQ(*Send(repeat).Get(39), "91");
  EXPECT_EQ(*Send(Auth(kPanCny, 80'000, Cny(), "000334")).Get(39), "91");
  EXPECT_EQ(sw_->PendingAdvices()[kBankCny], 1);
  links_[kBankCny]->set_up(true);
  sw_->OnIssuerReady(kBankCny);
  const auto all = issuers_[kBankCny]->Received("0420");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(*all[2].Get(11), "000333");
  EXPECT_EQ(iso8583::OriginalDataElements::Parse(*all[2].Get(90))->mti, "0100");
}

TEST_F(SwitchTest, CreditsReconcileAsCreditsAndTheirReversalsAsCreditReversals) {
  iso8583::Message sale = Sale(kPanCny, 10'000, Cny(), "000320");
  iso8583::Message undone_sale = Sale(kPanCny, 1'000, Cny(), "000321");
  iso8583::Message refund = Credit(kPanCny, 4'000, Cny(), "000322");
  iso8583::Message undone_refund = Credit(kPanCny, 300, Cny(), "000323");
  iso8583::Message overtaken_refund = Credit(kPanCny, 50, Cny(), "000324");
  for (const auto* m : {&sale, &undone_sale, &refund, &undone_refund})
    ASSERT_EQ(*Send(*m).Get(39), "00");
  ASSERT_EQ(*Send(Reversal(undone_sale)).Get(39), "00");
  ASSERT_EQ(*Send(Reversal(undone_refund)).Get(39), "00");
  // A credit's reversal that overtook it: recorded as a reversed credit, on both sides.
  ASSERT_EQ(*Send(Reversal(overtaken_refund)).Get(39), "00");
  EXPECT_EQ(*issuers_[kBankCny]->Received("0400").back().Get(3), "200000");

  ReconciliationTotals expected;
  expected.debits = 2;
  expected.debits_minor = 11'000;
  expected.debit_reversals = 1;
  expected.debit_reversals_minor = 1'000;
  expected.credits = 3;
  expected.credits_minor = 4'350;
  expected.credit_reversals = 2;
  expected.credit_reversals_minor = 350;
  auto ours = sw_->OpenBatchTotals(kAcquirer, kTerminal, Cny());
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_EQ(*ours, expected) << ours->ToString();
  EXPECT_EQ(expected.NetMinor(), 6'000);  // 10,000 sold, 4,000 refunded

  // A terminal that counted the refund as a negative sale is out of balance.
  ReconciliationTotals as_negative_sale;
  as_negative_sale.debits = 2;
  as_negative_sale.debits_minor = 6'000;
  EXPECT_EQ(*Send(Reconciliation(as_negative_sale, Cny(), "000330")).Get(66), "2");
  iso8583::Message in = Send(Reconciliation(expected, Cny(), "000331"));
  EXPECT_EQ(*in.Get(66), "1");
  EXPECT_EQ(*in.Get(74), "0000000003");
  EXPECT_EQ(*in.Get(75), "0000000002");
  EXPECT_EQ(*in.Get(86), "0000000000004350");
  EXPECT_EQ(*in.Get(87), "0000000000000350");
  EXPECT_EQ(*in.Get(97), "C0000000000006000");
  EXPECT_EQ(*sw_->OpenBatchTotals(kAcquirer, kTerminal, Cny()), ReconciliationTotals{});
}

TEST_F(SwitchTest, CreditSettlesFromTheAcquirerToTheIssuer) {
  ASSERT_EQ(*Send(Sale(kPanCny, 10'000, Cny(), "000340")).Get(39), "00");
  ASSERT_EQ(*Send(Credit(kPanCny, 4'000, Cny(), "000341")).Get(39), "00");
  // Cross-border: a RUB refund to a CNY card, and a reversed credit that settles nothing.
  ASSERT_EQ(*Send(Credit(kPanCny, 100'000, Rub(), "000342")).Get(39), "00");
  iso8583::Message reversed = Credit(kPanCny, 900, Cny(), "000343");
  ASSERT_EQ(*Send(reversed).Get(39), "00");
  ASSERT_EQ(*Send(Reversal(reversed)).Get(39), "00");

  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 3);
  // CNY: the acquirer is owed 100.00 for the sale and pays 40.00 for the refund; the issuer the
  // reverse, and it is paid the RUB refund billed in CNY (1,000.00 RUB × 0.0790 × 1.01 = 79.79).
  EXPECT_EQ(Position(*report, kAcquirer, "CNY").as_acquirer_minor, 6'000);
  EXPECT_EQ(Position(*report, kBankCny, "CNY").as_issuer_minor, -6'000 + 7'979);
  EXPECT_EQ(Position(*report, kAcquirer, "RUB").as_acquirer_minor, -100'000);
  // Interchange (0.50%) goes back to the acquirer on a credit; scheme fees (0.05%) are charged on
  // both: -(50 + 5) for the sale, +(20 - 2) for the refund.
  EXPECT_EQ(Position(*report, kAcquirer, "CNY").fees_minor, -55 + 18);
  std::map<std::string, std::int64_t> net;
  for (const auto& p : report->positions) net[p.currency] += p.net_minor;
  for (const auto& [currency, total] : net) EXPECT_EQ(total, 0) << currency;
  EXPECT_TRUE(net.contains("RUB"));
}

TEST_F(SwitchTest, SettlementNetsToZeroAndMatchesTheApprovedAmounts) {
  std::mt19937_64 rng(20260101);
  const std::vector<std::pair<const char*, const char*>> cards = {
      {kPanCny, kBankCny}, {kPanUsd, kBankUsd}, {kPanJpy, kBankJpy}};
  const std::vector<const Currency*> currencies = {&Cny(), &Usd(), &Jpy(), &Rub()};
  const std::vector<std::string> acquirers = {"48100000", "48110000", "48120000"};
  for (const auto& [pan, bank] : cards) {
    issuers_[bank]->Decide([](const iso8583::Message& r) {
      return iso8583::ResponseTo(r, std::stoll(std::string(*r.Get(4))) % 7 == 0 ? "51" : "00");
    });
  }
  std::map<std::string, std::int64_t> acquired;  // per currency: what acquirers are owed
  std::map<std::string, std::int64_t> billed;    // per currency: what issuers owe
  int approvals = 0;
  constexpr int kTransactions = 200;
  for (int i = 0; i < kTransactions; ++i) {
    const auto& [pan, bank] = cards[rng() % cards.size()];
    const Currency& currency = *currencies[rng() % currencies.size()];
    const std::string acquirer = acquirers[rng() % acquirers.size()];
    const std::int64_t minor = 100 + static_cast<std::int64_t>(rng() % 80'000);
    links_[bank]->set_up(rng() % 10 != 0);  // now and then the issuer is away: stand-in
    iso8583::Message request = Auth(pan, minor, currency, Digits(i + 1, 6), kTerminal, acquirer);
    iso8583::Message response = Send(request);
    links_[bank]->set_up(true);
    if (*response.Get(39) != "00") continue;
    ++approvals;
    std::int64_t captured = minor;
    std::int64_t billing = std::stoll(std::string(response.Get(6).value_or(*response.Get(4))));
    const std::uint64_t fate = rng() % 10;
    if (fate == 0) {  // reversed: settles nothing
      ASSERT_EQ(*Send(Reversal(request)).Get(39), "00");
      --approvals;
      continue;
    }
    if (fate == 1) {  // completed for less
      captured = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(minor));
      ASSERT_EQ(*Send(Completion(request, captured, Digits(500'000 + i, 6))).Get(39), "00");
      auto advices = issuers_[bank]->Received("0220");
      ASSERT_FALSE(advices.empty());
      const iso8583::Message& advice = advices.back();
      billing = std::stoll(std::string(advice.Get(6).value_or(*advice.Get(4))));
    }
    acquired[std::string(currency.alpha)] += captured;
    const Currency* billing_currency = bank == std::string(kBankCny)   ? &Cny()
                                       : bank == std::string(kBankUsd) ? &Usd()
                                                                       : &Jpy();
    billed[std::string(billing_currency->alpha)] += billing;
  }
  ASSERT_GT(approvals, kTransactions / 2);
  auto report = sw_->CutOff();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, approvals);
  std::map<std::string, std::int64_t> net, as_acquirer, as_issuer;
  for (const auto& p : report->positions) {
    net[p.currency] += p.net_minor;
    if (p.institution_id == kNetworkId) continue;
    as_acquirer[p.currency] += p.as_acquirer_minor;
    as_issuer[p.currency] += p.as_issuer_minor;
  }
  for (const auto& [currency, total] : net) EXPECT_EQ(total, 0) << currency;
  for (const auto* c : currencies) {
    const std::string alpha(c->alpha);
    EXPECT_EQ(as_acquirer[alpha], acquired[alpha]) << alpha;
    EXPECT_EQ(as_issuer[alpha], -billed[alpha]) << alpha;
  }
  EXPECT_GT(acquired["RUB"], 0);
  EXPECT_GT(sw_->stats().stand_in_approved.load(), 0u);
}

}  // namespace
}  // namespace tapstack::network
