// A transit top-up paid with a bound bank card through the card network (issue #6): the demo card
// is provisioned to a phone through the TSP (as token_payment_test.cc does); the transit
// operator's merchant (NetworkTopUpPayment, MCC 4111) gives the wallet an unpredictable number for
// the order; the wallet makes an in-app payment with its secure element; Authorize sends the 0100
// (DE22 "092", DE55, DE48 DI/TR) through the switch and its TSP step to the issuer, which holds the
// amount; Capture posts the hold (0220), Reverse releases it (0400). One process, in-memory links
// (the same ISO 8583 bytes as TCP), the demo seed and the demo TSP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "acquirer/in_app_payment.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "iso8583/token_data.h"
#include "link/in_memory_link.h"
#include "network/fake_peers.h"
#include "server/demo_tsp.h"
#include "server/demo_wiring.h"
#include "server/network_top_up_payment.h"
#include "server/payment_rail.h"
#include "store/sqlite_store.h"
#include "token_rail_test_util.h"

namespace tapstack::server {
namespace {

using nlohmann::json;


using testing::kDeviceId;
using testing::kWalletTrid;
using testing::TokenRailTest;

class TransitTopUpTest : public TokenRailTest {
 protected:
  void SetUp() override {
    TokenRailTest::SetUp();
    if (HasFatalFailure()) return;
    // The transit operator's merchant, on the demo acquirer, reaching the switch through a link
    // that can lose answers.
    acquirer_link_ = std::make_unique<testing_peers::FaultyLink>(*switch_);
    NetworkTopUpPaymentOptions options;
    options.terminal = TransitTopUpTerminalConfig(demo_.merchants[0].acquirer_id, "Beijing");
    options.link = acquirer_link_.get();
    options.random = &merchant_random_;
    RAIL_ASSERT_OK_AND_ASSIGN(payment_, NetworkTopUpPayment::Create(std::move(options)));
  }

  void TearDown() override {
    payment_.reset();
    acquirer_link_.reset();
    TokenRailTest::TearDown();
  }

  // The wallet's side of an order: the operator's number for it, the biometric check, the
  // secure element's cryptogram for the amount.
  Result<json> WalletPays(std::string_view order_id, std::int64_t fen) {
    TS_ASSIGN_OR_RETURN(const std::string number, payment_->NewUnpredictableNumber(order_id));
    acquirer::InAppOrder order;
    order.merchant_name = "Transit card top-up Beijing";
    order.amount = Amount(fen, Cny());
    order.unpredictable_number_hex = number;
    order.device_id = std::string(kDeviceId);
    order.requestor_id = std::string(kWalletTrid);
    se_->BiometricVerified();
    return acquirer::MakeInAppPayment(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); },
        SystemClock::Instance(), order);
  }

  // The issuer's record of the authorisation the 0100 `request` (as the issuer received it) made.
  issuer::AuthorizationState IssuerState(const iso8583::Message& request) {
    auto state = issuers_->FindAuthorization(bank_->institution_id, *request.Get(32),
                                             *request.Get(41), *request.Get(11), *request.Get(7));
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : issuer::AuthorizationState{};
  }
  std::uint64_t SwitchRequests() { return switch_->stats().requests.load(); }

  std::unique_ptr<testing_peers::FaultyLink> acquirer_link_;
  SeededRandom merchant_random_{11};
  std::unique_ptr<NetworkTopUpPayment> payment_;
};

TEST_F(TransitTopUpTest, AuthorizeHoldsAndCapturePostsTheTopUp) {
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0001", 50'00));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string ref, payment_->Authorize("bj-0001", 50'00, data));
  EXPECT_EQ(Available(), before - 50'00);

  // The issuer got the funding PAN, the token in DE48 TK, and the in-app entry mode; the operator
  // is a transit merchant.
  const std::vector<iso8583::Message> requests = Issuer().seen("0100");
  ASSERT_EQ(requests.size(), 1u);
  const iso8583::Message& request = requests[0];
  EXPECT_EQ(request.Get(2), std::optional<std::string_view>(pan_));
  EXPECT_EQ(request.Get(11), std::optional<std::string_view>(ref));
  EXPECT_EQ(request.Get(18), std::optional<std::string_view>("4111"));
  EXPECT_EQ(request.Get(22), std::optional<std::string_view>("092"));
  EXPECT_EQ(request.Get(41), std::optional<std::string_view>("TRTOPUP1"));
  RAIL_ASSERT_OK_AND_ASSIGN(const iso8583::TokenData de48,
                              iso8583::TokenData::Parse(*request.Get(48)));
  EXPECT_EQ(de48.Get(iso8583::token_tag::kToken),
            std::optional<std::string_view>(token_.token_number));
  EXPECT_EQ(IssuerState(request).state, issuer::AuthorizationState::kPending);

  // The wallet's history shows an in-app use of the token at the operator.
  RAIL_ASSERT_OK_AND_ASSIGN(const std::vector<tsp::TokenHistoryEntry> history,
                              tsp_->service().Transactions(kWalletTrid, token_.token_id, 10));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].pos_entry_mode, "092");
  EXPECT_EQ(history[0].mcc, "4111");
  EXPECT_EQ(history[0].amount_minor, 50'00);

  // The load server retries an order left "authorising": the same reference, nothing sent.
  const std::uint64_t requests_before = SwitchRequests();
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string again, payment_->Authorize("bj-0001", 50'00, data));
  EXPECT_EQ(again, ref);
  // The same order with another amount is not the same payment.
  EXPECT_EQ(payment_->Authorize("bj-0001", 60'00, data).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(SwitchRequests(), requests_before);

  // Capture: the hold is posted at the full amount; a second capture sends nothing.
  RAIL_ASSERT_OK(payment_->Capture(ref));
  const issuer::AuthorizationState captured = IssuerState(request);
  EXPECT_EQ(captured.state, issuer::AuthorizationState::kPosted);
  EXPECT_EQ(captured.posted_minor, 50'00);
  EXPECT_EQ(Available(), before - 50'00);
  RAIL_ASSERT_OK(payment_->Capture(ref));
  EXPECT_EQ(Issuer().seen("0220").size(), 1u);
  EXPECT_EQ(payment_->Reverse(ref).code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Issuer().seen("0400").empty());
  EXPECT_EQ(payment_->Capture("000000").code(), ErrorCode::kNotFound);
}

TEST_F(TransitTopUpTest, ReverseReleasesTheHold) {
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0002", 30'00));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string ref, payment_->Authorize("bj-0002", 30'00, data));
  EXPECT_EQ(Available(), before - 30'00);
  const iso8583::Message request = Issuer().seen("0100").at(0);

  RAIL_ASSERT_OK(payment_->Reverse(ref));
  EXPECT_EQ(Available(), before);
  EXPECT_EQ(IssuerState(request).state, issuer::AuthorizationState::kVoided);
  ASSERT_EQ(Issuer().seen("0400").size(), 1u);
  EXPECT_EQ(Issuer().seen("0400")[0].Get(2), std::optional<std::string_view>(pan_));

  // Twice: OK, nothing sent. Capture after it, or the same payment again: refused.
  RAIL_ASSERT_OK(payment_->Reverse(ref));
  EXPECT_EQ(Issuer().seen("0400").size(), 1u);
  EXPECT_EQ(payment_->Capture(ref).code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Issuer().seen("0220").empty());
  EXPECT_EQ(payment_->Authorize("bj-0002", 30'00, data).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Available(), before);
}

// A deleted card's refund goes back to the token that paid: the operator keeps the card on file
// (the token, never the PAN), and the refund is a credit (0200, DE3 "200000") the TSP
// de-tokenises to the funding card, whose issuer credits the account.
TEST_F(TransitTopUpTest, RefundCreditsTheTokenThatPaid) {
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0005", 80'00));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string ref, payment_->Authorize("bj-0005", 80'00, data));
  RAIL_ASSERT_OK(payment_->Capture(ref));
  EXPECT_EQ(Available(), before - 80'00);
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string card_on_file, payment_->CardOnFile(ref));
  EXPECT_EQ(card_on_file.find(pan_), std::string::npos);
  EXPECT_EQ(card_on_file.rfind(token_.token_number, 0), 0u);

  RAIL_ASSERT_OK_AND_ASSIGN(const std::string credit,
                            payment_->Refund("close-1000", card_on_file, 35'00));
  EXPECT_EQ(credit.rfind("TRTOPUP1:", 0), 0u);
  EXPECT_EQ(Available(), before - 80'00 + 35'00);
  const std::vector<iso8583::Message> credits = Issuer().seen("0200");
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].Get(3), std::optional<std::string_view>("200000"));
  EXPECT_EQ(credits[0].Get(2), std::optional<std::string_view>(pan_));

  // The same refund again: the same reference, nothing sent.
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string again,
                            payment_->Refund("close-1000", card_on_file, 35'00));
  EXPECT_EQ(again, credit);
  EXPECT_EQ(Issuer().seen("0200").size(), 1u);
  EXPECT_EQ(Available(), before - 80'00 + 35'00);
  EXPECT_EQ(payment_->Refund("close-1001", "not a card", 1'00).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(payment_->CardOnFile("000000").status().code(), ErrorCode::kNotFound);
}

TEST_F(TransitTopUpTest, ReplayedPaymentDataIsRefused) {
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0003", 20'00));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string ref, payment_->Authorize("bj-0003", 20'00, data));
  const std::int64_t after_first = Available();
  const std::uint64_t requests = SwitchRequests();

  // The same payment data (same number, same ATC) for a second order: its number is not the one
  // the operator gave that order, so nothing is sent.
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string number,
                              payment_->NewUnpredictableNumber("bj-0004"));
  EXPECT_NE(number, *payment_->NewUnpredictableNumber("bj-0003"));
  const Result<std::string> replay = payment_->Authorize("bj-0004", 20'00, data);
  EXPECT_EQ(replay.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(replay.status().message().find("9F37 (unpredictable number)"), std::string::npos)
      << replay.status().ToString();
  EXPECT_EQ(SwitchRequests(), requests);

  // Sent anyway (a merchant without that check): the TSP's ATC window refuses the same DE55.
  const std::string first_number = *payment_->NewUnpredictableNumber("bj-0003");
  RAIL_ASSERT_OK_AND_ASSIGN(
      const acquirer::Purchase resent,
      acquirer::InAppPurchaseFromJson(data, Amount(20'00, Cny()), first_number));
  std::promise<acquirer::PurchaseResult> done;
  payment_->terminal().Purchase(
      resent, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
  const acquirer::PurchaseResult refused = done.get_future().get();
  ASSERT_TRUE(refused.response.ok());
  EXPECT_EQ(refused.response_code(), "14");
  EXPECT_EQ(Available(), after_first);
  EXPECT_EQ(Issuer().seen("0100").size(), 1u);
  EXPECT_NE(refused.stan, ref);
}

TEST_F(TransitTopUpTest, PaymentDataNotForThisOrderIsRefusedBeforeAnythingIsSent) {
  const std::int64_t before = Available();
  const std::uint64_t requests = SwitchRequests();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0005", 50'00));

  // The cryptogram is for 50.00: an order of 60.00 cannot use it.
  const Result<std::string> wrong_amount = payment_->Authorize("bj-0005", 60'00, data);
  EXPECT_EQ(wrong_amount.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_amount.status().message().find(
                "9F02 (amount authorised): 000000005000, expected 000000006000"),
            std::string::npos)
      << wrong_amount.status().ToString();
  // An order the operator never gave a number to; an unusable payment data object.
  EXPECT_EQ(payment_->Authorize("bj-unknown", 50'00, data).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(payment_->Authorize("bj-0005", 50'00, json::object()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(payment_->Authorize("bj 0005", 50'00, data).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(payment_->Authorize("bj-0005", 0, data).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SwitchRequests(), requests);
  EXPECT_TRUE(Issuer().seen().empty());
  EXPECT_EQ(Available(), before);

  // The refusals spent nothing: the right amount still pays with the same data.
  RAIL_ASSERT_OK(payment_->Authorize("bj-0005", 50'00, data).status());
  EXPECT_EQ(Available(), before - 50'00);
}

TEST_F(TransitTopUpTest, DeclinedCardGivesFailedPreconditionNamingDe39) {
  RAIL_ASSERT_OK(
      issuers_->SetCardStatus(bank_->institution_id, pan_, issuer::CardStatus::kBlocked));
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0006", 50'00));
  const Result<std::string> declined = payment_->Authorize("bj-0006", 50'00, data);
  EXPECT_EQ(declined.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(declined.status().message().find("DE39 '62'"), std::string::npos)
      << declined.status().ToString();
  EXPECT_EQ(Available(), before);

  // A retry of the order with the same (spent) cryptogram gets the same answer, without a message.
  const std::uint64_t requests = SwitchRequests();
  const Result<std::string> again = payment_->Authorize("bj-0006", 50'00, data);
  EXPECT_EQ(again.status(), declined.status());
  EXPECT_EQ(SwitchRequests(), requests);

  // More than the card holds: "51".
  RAIL_ASSERT_OK(
      issuers_->SetCardStatus(bank_->institution_id, pan_, issuer::CardStatus::kActive));
  RAIL_ASSERT_OK_AND_ASSIGN(const json too_much, WalletPays("bj-0007", 900'000));
  const Result<std::string> insufficient = payment_->Authorize("bj-0007", 900'000, too_much);
  EXPECT_EQ(insufficient.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(insufficient.status().message().find("DE39 '51'"), std::string::npos)
      << insufficient.status().ToString();
}

TEST_F(TransitTopUpTest, LostAnswerIsReversedAndReportedUnavailable) {
  const std::int64_t before = Available();
  RAIL_ASSERT_OK_AND_ASSIGN(const json data, WalletPays("bj-0008", 40'00));
  acquirer_link_->time_out_next = 1;  // the switch approves, the answer is lost
  const Result<std::string> lost = payment_->Authorize("bj-0008", 40'00, data);
  EXPECT_EQ(lost.status().code(), ErrorCode::kUnavailable) << lost.status().ToString();
  // The terminal's reversal (sent as the answer was given up, acknowledged later) reaches the
  // issuer: nothing stays held.
  ASSERT_EQ(Issuer().seen("0100").size(), 1u);
  for (int waited_ms = 0; Issuer().seen("0400").empty() && waited_ms < 5'000; waited_ms += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(Issuer().seen("0400").size(), 1u);
  for (int waited_ms = 0; Available() != before && waited_ms < 5'000; waited_ms += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(IssuerState(Issuer().seen("0100")[0]).state, issuer::AuthorizationState::kVoided);
  EXPECT_EQ(Available(), before);
}

TEST_F(TransitTopUpTest, CreateRefusesBadOptions) {
  NetworkTopUpPaymentOptions options;
  options.terminal = TransitTopUpTerminalConfig("48100000", "Beijing");
  EXPECT_EQ(NetworkTopUpPayment::Create(options).status().code(), ErrorCode::kInvalidArgument);
  options.link = acquirer_link_.get();
  options.terminal.terminal_id = "TOPUP";
  EXPECT_EQ(NetworkTopUpPayment::Create(options).status().code(), ErrorCode::kInvalidArgument);
  options.terminal = TransitTopUpTerminalConfig("4810000A", "Beijing");
  EXPECT_EQ(NetworkTopUpPayment::Create(options).status().code(), ErrorCode::kInvalidArgument);
  options.terminal = TransitTopUpTerminalConfig("48100000", "Beijing");
  EXPECT_EQ(options.terminal.mcc, "4111");
  EXPECT_EQ(options.terminal.merchant_id.size(), 15u);
  options.orders_max = 0;
  EXPECT_EQ(NetworkTopUpPayment::Create(options).status().code(), ErrorCode::kInvalidArgument);

  // Orders are bounded: with room for one, a second order fits once the first is finished.
  options.orders_max = 1;
  RAIL_ASSERT_OK_AND_ASSIGN(auto small, NetworkTopUpPayment::Create(options));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string first, small->NewUnpredictableNumber("a-1"));
  RAIL_ASSERT_OK_AND_ASSIGN(const std::string same, small->NewUnpredictableNumber("a-1"));
  EXPECT_EQ(first, same);
  RAIL_ASSERT_OK(small->NewUnpredictableNumber("a-2").status());  // a-1 never paid: forgotten
  EXPECT_EQ(small->Authorize("a-1", 100, json::object()).status().code(),
            ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tapstack::server
