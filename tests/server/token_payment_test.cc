// End to end with a payment token (issue #5): the demo card is provisioned to a phone through the
// TSP (ID&V with the issuer over ISO 8583 through the switch, OTP from the SMS outbox, credentials
// wrapped for the phone's secure element); the phone taps a contactless kernel; the POS sends the
// 0100 with the token in DE2 and the ARQC in DE55; the switch's TSP step (TspTokenService →
// tsp::TspService) checks the token, its domain, ATC and ARQC, forwards the funding PAN to the
// issuer, and returns the token with the ARPC, which the card accepts. One process, in-memory
// links (the same ISO 8583 bytes as TCP), the demo seed and the demo TSP (server/demo_tsp.h); the
// rail and the provisioned phone are token_rail_test_util.h's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <mutex>

#include "acquirer/contactless_kernel.h"
#include "acquirer/pos_terminal.h"
#include "core/hex.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "emv/cryptogram_profile.h"
#include "emv/tlv.h"
#include "iso8583/token_data.h"
#include "link/in_memory_link.h"
#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "server/payment_rail.h"
#include "store/sqlite_store.h"
#include "token_rail_test_util.h"

namespace tapstack::server {
namespace {

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }


using testing::kWalletTrid;
using testing::TokenRailTest;

class TokenPaymentTest : public TokenRailTest {
 protected:
  void SetUp() override {
    TokenRailTest::SetUp();
    if (HasFatalFailure()) return;
    acquirer_link_ = std::make_unique<link::InMemoryLink>(*switch_);
    kernel_ = std::make_unique<acquirer::ContactlessKernel>(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); }, kernel_random_,
        SystemClock::Instance());
    const demo::DemoMerchant& m = demo_.merchants[0];
    terminal_ = std::make_unique<acquirer::PosTerminal>(
        acquirer::TerminalConfig{m.terminal_id, m.merchant_id, m.name + " " + m.city, m.mcc,
                                 (*CountryByAlpha2(m.country))->numeric, m.acquirer_id},
        *acquirer_link_, SystemClock::Instance());
  }

  void TearDown() override {
    terminal_.reset();
    kernel_.reset();
    acquirer_link_.reset();
    TokenRailTest::TearDown();
  }

  // A tap of `minor` CNY fen: the kernel's outcome (with DE55) after the phone's biometric check.
  Result<acquirer::ContactlessResult> Tap(std::int64_t minor, bool biometric = true) {
    if (biometric) se_->BiometricVerified();
    acquirer::ContactlessTerminalData data;
    data.amount_authorised_minor = static_cast<std::uint64_t>(minor);
    data.currency_numeric = Cny().numeric;
    return kernel_->Run(data);
  }

  acquirer::Purchase Sale(const acquirer::ContactlessResult& tap, std::int64_t minor,
                          acquirer::EntryMode entry = acquirer::EntryMode::kContactless) {
    acquirer::Purchase p;
    p.pan = tap.token_number;
    p.expiry = tap.expiry_yymm;
    p.amount = Amount(minor, Cny());
    p.entry = entry;
    p.icc_data.assign(tap.icc_data.begin(), tap.icc_data.end());
    return p;
  }

  acquirer::PurchaseResult Buy(const acquirer::Purchase& p) {
    std::promise<acquirer::PurchaseResult> done;
    terminal_->Purchase(p, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }


  // Expects a token decline: 14 "token not resolved", the token in DE2, no ARPC, no hold, and
  // nothing forwarded to the issuer.
  void ExpectTokenDecline(const acquirer::PurchaseResult& r, std::int64_t available_before,
                          std::size_t issuer_requests_before) {
    ASSERT_TRUE(r.response.ok()) << r.response.status().ToString();
    EXPECT_EQ(r.response_code(), "14");
    EXPECT_EQ(r.response->Get(44), std::optional<std::string_view>("token not resolved"));
    EXPECT_EQ(r.response->Get(2), std::optional<std::string_view>(token_.token_number));
    EXPECT_FALSE(r.response->Has(55));
    EXPECT_EQ(Available(), available_before);
    EXPECT_EQ(IssuerSaw().size(), issuer_requests_before);
  }

  std::unique_ptr<link::InMemoryLink> acquirer_link_;
  SeededRandom kernel_random_{5};
  std::unique_ptr<acquirer::ContactlessKernel> kernel_;
  std::unique_ptr<acquirer::PosTerminal> terminal_;
};

TEST_F(TokenPaymentTest, TapApprovesOnTheFundingCardAndTheCardAcceptsTheArpc) {
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult tap, Tap(8'800));
  ASSERT_EQ(tap.outcome, acquirer::KernelOutcome::kOnlineRequest);
  EXPECT_EQ(tap.token_number, token_.token_number);

  const acquirer::PurchaseResult r = Buy(Sale(tap, 8'800));
  ASSERT_TRUE(r.response.ok()) << r.response.status().ToString();
  ASSERT_EQ(r.response_code(), "00") << r.response->Get(44).value_or("");
  // The hold is on the real card; the acquirer only ever sees the token.
  EXPECT_EQ(Available(), before - 8'800);
  EXPECT_EQ(r.response->Get(2), std::optional<std::string_view>(token_.token_number));

  // DE55 = 91 0A ARPC(8) ARC(2); the card's EXTERNAL AUTHENTICATE accepts it.
  ASSERT_TRUE(r.response->Has(55));
  const std::string_view de55 = *r.response->Get(55);
  RAIL_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(AsBytes(de55)));
  const emv::TlvNode* tag91 = tree.FindRoot(0x91);
  ASSERT_NE(tag91, nullptr);
  ASSERT_EQ(tag91->value.size(), 10u);
  EXPECT_EQ(HexEncode(tag91->value.subspan(8)), "3030");
  const Bytes arpc(tag91->value.begin(), tag91->value.end());
  EXPECT_TRUE(kernel_->ExternalAuthenticate(Profile(), arpc).ok());

  // The issuer saw the funding PAN in DE2 and the token in DE48 TK, never the token in DE2.
  const std::vector<iso8583::Message> seen = IssuerSaw();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Get(2), std::optional<std::string_view>(pan_));
  EXPECT_EQ(seen[0].Get(14), std::optional<std::string_view>(demo::kDemoCardExpiry));
  RAIL_ASSERT_OK_AND_ASSIGN(const iso8583::TokenData de48,
                           iso8583::TokenData::Parse(*seen[0].Get(48)));
  EXPECT_EQ(de48.Get(iso8583::token_tag::kToken),
            std::optional<std::string_view>(token_.token_number));

  // The switch told the TSP how the use ended: the token's history (what the wallet shows).
  RAIL_ASSERT_OK_AND_ASSIGN(const std::vector<tsp::TokenHistoryEntry> history,
                           tsp_->service().Transactions(kWalletTrid, token_.token_id, 10));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].response_code, "00");
  EXPECT_EQ(history[0].amount_minor, 8'800);
  EXPECT_EQ(history[0].currency_numeric, 156);
  EXPECT_EQ(history[0].approval_code, *r.response->Get(38));

  // The journal (read after the switch has flushed and closed it) never holds the PAN in clear.
  switch_->SetTokenService(nullptr);
  terminal_.reset();
  switch_.reset();
  RAIL_ASSERT_OK_AND_ASSIGN(auto journal, store::OpenSqlite(dir_, "network_journal"));
  RAIL_ASSERT_OK_AND_ASSIGN(
      const store::Rows rows,
      journal->Query("SELECT direction, peer, masked_pan, message_json FROM journal"));
  EXPECT_GE(rows.size(), 4u);  // in from acquirer, out to issuer, in from issuer, out to acquirer
  bool journaled_issuer_request = false;
  for (const store::Row& row : rows) {
    for (const char* column : {"masked_pan", "message_json"}) {
      const std::string text = *row.GetText(column);
      EXPECT_EQ(text.find(pan_), std::string::npos) << column << ": " << text;
      EXPECT_EQ(text.find(token_.token_number), std::string::npos) << column << ": " << text;
    }
    if (*row.GetText("direction") == "out" && *row.GetText("peer") == bank_->institution_id) {
      journaled_issuer_request = true;
    }
  }
  EXPECT_TRUE(journaled_issuer_request);
}

TEST_F(TokenPaymentTest, DeclinePaths) {
  // A first approval, whose DE55 is then replayed.
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult first, Tap(1'000));
  ASSERT_EQ(Buy(Sale(first, 1'000)).response_code(), "00");
  std::int64_t available = Available();
  std::size_t forwarded = IssuerSaw().size();
  ASSERT_EQ(forwarded, 1u);

  // Replay: the same DE55 (same ATC) in a new request (new STAN).
  ExpectTokenDecline(Buy(Sale(first, 1'000)), available, forwarded);

  // Tampered ARQC: one bit of 9F26 flipped (DE55 starts 9F 26 08).
  RAIL_ASSERT_OK_AND_ASSIGN(acquirer::ContactlessResult tampered, Tap(1'000));
  ASSERT_EQ(tampered.icc_data[0], 0x9F);
  ASSERT_EQ(tampered.icc_data[1], 0x26);
  tampered.icc_data[3] ^= 0x01;
  ExpectTokenDecline(Buy(Sale(tampered, 1'000)), available, forwarded);

  // Wrong channel: the token keyed in by hand (DE22 01x), even with a genuine DE55.
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult keyed, Tap(1'000));
  ExpectTokenDecline(Buy(Sale(keyed, 1'000, acquirer::EntryMode::kManual)), available, forwarded);

  // Suspended token (the issuer suspends it): declined; resumed: a fresh tap approves.
  ASSERT_TRUE(tsp_->service()
                  .IssuerChange(token_.token_id, tsp::LifecycleAction::kSuspend,
                                bank_->institution_id, "lost phone")
                  .ok());
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult suspended, Tap(1'000));
  ExpectTokenDecline(Buy(Sale(suspended, 1'000)), available, forwarded);
  ASSERT_TRUE(tsp_->service()
                  .IssuerChange(token_.token_id, tsp::LifecycleAction::kResume,
                                bank_->institution_id, "found")
                  .ok());
  // The tap refused while suspended spent no ATC at the TSP: it is still good now.
  EXPECT_EQ(Buy(Sale(suspended, 1'000)).response_code(), "00");
  EXPECT_EQ(Available(), available - 1'000);
  available = Available();
  forwarded = IssuerSaw().size();

  // No biometric: the card declines offline (AAC) and nothing is sent.
  const std::uint64_t requests = switch_->stats().requests;
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult offline, Tap(1'000, false));
  EXPECT_EQ(offline.outcome, acquirer::KernelOutcome::kDeclinedOffline);
  EXPECT_EQ(offline.cid, 0x00);
  EXPECT_EQ(switch_->stats().requests, requests);
  EXPECT_EQ(Available(), available);
  EXPECT_EQ(IssuerSaw().size(), forwarded);

  // Every decline above was counted as a token decline by the switch.
  EXPECT_EQ(switch_->stats().token_declines, 4u);
}

TEST_F(TokenPaymentTest, IssuerDeclineCarriesNoArpc) {
  // More than the debit card holds: the issuer declines (51); the TSP's ARPC (made with ARC
  // "3030") is not sent, so the card cannot take the decline for an approval.
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const acquirer::ContactlessResult tap, Tap(900'000));
  const acquirer::PurchaseResult r = Buy(Sale(tap, 900'000));
  ASSERT_TRUE(r.response.ok());
  EXPECT_EQ(r.response_code(), "51");
  EXPECT_FALSE(r.response->Has(55));
  EXPECT_EQ(r.response->Get(2), std::optional<std::string_view>(token_.token_number));
  EXPECT_EQ(Available(), before);
}

}  // namespace
}  // namespace tapstack::server
