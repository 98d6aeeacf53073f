// transit/load_server.h against a real emulated phone: the card registry issues a Beijing card
// into a device::SecureElement, the wallet drives the purse through its own channel
// (TransmitToTransitCard, APDUs only) and the load server answers from its own store.
#include "transit/load_server.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/hex.h"
#include "transit/card_registry.h"
#include "transit/operator_store.h"
#include "transit_test_util.h"

namespace tapstack::transit {
namespace {

using testing::City;
using testing::DemoKeys;
using testing::OpenPhone;

constexpr TerminalId kLoadTerminal = {0x99, 0x00, 0x10, 0x00, 0x00, 0x01};

// Records every call; can decline, or be unreachable for one kind of call.
class FakePayment final : public TopUpPayment {
 public:
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t amount_fen,
                                const nlohmann::json&) override {
    calls.push_back("authorize " + std::string(order_id) + " " + std::to_string(amount_fen));
    if (!authorize_error.ok()) return authorize_error;
    const std::string ref = "pay-" + std::string(order_id);
    payments[ref] = "authorised";
    return ref;
  }
  Status Capture(std::string_view ref) override {
    calls.push_back("capture " + std::string(ref));
    if (!capture_error.ok()) return capture_error;
    if (payments.count(std::string(ref)) == 0) return NotFound("no payment");
    payments[std::string(ref)] = "captured";
    return Status::Ok();
  }
  Status Reverse(std::string_view ref) override {
    calls.push_back("reverse " + std::string(ref));
    if (!reverse_error.ok()) return reverse_error;
    if (payments[std::string(ref)] == "captured") return FailedPrecondition("already captured");
    payments[std::string(ref)] = "reversed";
    return Status::Ok();
  }
  int Count(std::string_view op) const {
    int n = 0;
    for (const std::string& call : calls) n += call.rfind(std::string(op) + " ", 0) == 0 ? 1 : 0;
    return n;
  }

  std::vector<std::string> calls;
  std::map<std::string, std::string> payments;  // ref -> authorised | captured | reversed
  Status authorize_error;
  Status capture_error;
  Status reverse_error;
};

class LoadServerTest : public testing::TransitTest {
 protected:
  void SetUp() override {
    TransitTest::SetUp();
    beijing_ = City("1000");
    Open();
    phone_ = OpenPhone(dir_, "phone-1", clock_);
    CardRequest request{
        "bj-card-1", "acct-1", phone_->device_id(), phone_->public_key(), {{"token", "t1"}}};
    IssuedCard issued = registry_->IssueCard(request).value();
    serial_ = issued.serial;
    ASSERT_TRUE(phone_->InstallTransitCard(issued.card_id, issued.wrapped_profile).ok());
  }

  // (Re)opens the registry and the load server, each on its own connection to the city's store.
  void Open() {
    server_.reset();
    registry_.reset();
    CardRegistryOptions registry_options;
    registry_options.city = beijing_;
    registry_options.keys = DemoKeys("1000");
    registry_options.payment = &payment_;
    registry_options.clock = &clock_;
    registry_options.store = OpenOperatorStore("1000", dir_).value();
    registry_ = CardRegistry::Open(std::move(registry_options)).value();
    LoadServerOptions options;
    options.city = beijing_;
    options.load_master_key = DemoKeys("1000").load;
    options.tac_master_key = DemoKeys("1000").tac;
    options.terminal_id = kLoadTerminal;
    options.payment = &payment_;
    options.registry = registry_.get();
    options.clock = &clock_;
    options.store = OpenOperatorStore("1000", dir_).value();
    auto server = LoadServer::Open(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  PurseCommands Card(const std::string& card_id = "bj-card-1") {
    return PurseCommands(
        [this, card_id](ByteView apdu) { return phone_->TransmitToTransitCard(card_id, apdu); });
  }

  // What the wallet forwards: the card's raw 16-byte INITIALIZE FOR LOAD answer.
  Bytes InitializeForLoad(std::uint32_t amount_fen, const TerminalId& terminal = kLoadTerminal,
                          const std::string& card_id = "bj-card-1") {
    Bytes apdu = {0x80, 0x50, 0x00, 0x02, 0x0B, 0x01};
    const Bytes amount = UintToBytes(amount_fen, 4);
    apdu.insert(apdu.end(), amount.begin(), amount.end());
    apdu.insert(apdu.end(), terminal.begin(), terminal.end());
    apdu.push_back(0x10);
    const Bytes answer = phone_->TransmitToTransitCard(card_id, apdu);
    EXPECT_EQ(answer.size(), 18u);
    EXPECT_EQ(HexEncode(ByteView(answer).last(2)), "9000");
    return Bytes(answer.begin(), answer.end() - 2);
  }

  Result<crypto::PurseMac> Credit(const LoadAuthorization& auth,
                                  const std::string& card_id = "bj-card-1") {
    return Card(card_id).CreditForLoad(auth.date, auth.time, auth.mac2);
  }

  std::uint32_t Balance(const std::string& card_id = "bj-card-1") {
    return Card(card_id).GetBalance().value();
  }

  std::vector<PurseLogRecord> ReadLog() {
    PurseCommands card = Card();
    std::vector<PurseLogRecord> log;
    for (std::uint8_t i = 1; i <= kLogRecordsMax; ++i) {
      Result<PurseLogRecord> record = card.ReadLogRecord(i);
      if (!record.ok()) break;
      log.push_back(*record);
    }
    return log;
  }

  // A paid order through to CREDIT FOR LOAD; returns the card's TAC.
  crypto::PurseMac LoadThroughTheCard(const std::string& order_id, std::uint32_t amount_fen) {
    EXPECT_TRUE(server_->CreateOrder(order_id, serial_, amount_fen, {{"token", order_id}}).ok());
    const LoadAuthorization auth =
        server_->AuthorizeLoad(order_id, InitializeForLoad(amount_fen)).value();
    return Credit(auth).value();
  }

  std::shared_ptr<const CityNetwork> beijing_;
  FakePayment payment_;
  std::unique_ptr<CardRegistry> registry_;
  std::unique_ptr<LoadServer> server_;
  std::unique_ptr<device::SecureElement> phone_;
  std::string serial_;
};

TEST_F(LoadServerTest, PaidOrderLoadsTheCardAndCapturesThePayment) {
  auto order = server_->CreateOrder("order-1", serial_, 5000, {{"token", "t1"}});
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(order->state, LoadOrderState::kPaid);
  EXPECT_EQ(order->payment_ref, "pay-order-1");
  EXPECT_EQ(payment_.Count("authorize"), 1);

  auto auth = server_->AuthorizeLoad("order-1", InitializeForLoad(5000));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->terminal_id, kLoadTerminal);
  EXPECT_EQ(HexEncode(auth->date) + HexEncode(auth->time), "20261122083000");  // China time
  EXPECT_EQ(server_->Order("order-1")->state, LoadOrderState::kAuthorised);
  EXPECT_EQ(payment_.Count("capture"), 0);

  auto tac = Credit(*auth);  // the real card accepts the server's MAC2
  ASSERT_TRUE(tac.ok()) << tac.status().ToString();
  EXPECT_EQ(Balance(), 5000u);

  auto loaded = server_->ConfirmLoad("order-1", *tac);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->state, LoadOrderState::kLoaded);
  EXPECT_TRUE(loaded->captured);
  EXPECT_EQ(loaded->tac, HexEncode(*tac));
  EXPECT_EQ(loaded->new_balance_fen, 5000u);
  EXPECT_EQ(payment_.payments["pay-order-1"], "captured");
  // Confirming again is a no-op: no second capture.
  ASSERT_TRUE(server_->ConfirmLoad("order-1", *tac).ok());
  EXPECT_EQ(payment_.Count("capture"), 1);

  const std::vector<ConfirmedLoad> loads = server_->ConfirmedLoads(serial_).value();
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0].online_counter, 0);
  EXPECT_EQ(loads[0].amount_fen, 5000u);
  EXPECT_EQ(loads[0].new_balance_fen, 5000u);
  EXPECT_EQ(loads[0].local_time, "20261122083000");

  // A second top-up runs at the next online counter and continues the balance.
  clock_.AdvanceMillis(60'000);
  const crypto::PurseMac second = LoadThroughTheCard("order-2", 1000);
  ASSERT_TRUE(server_->ConfirmLoad("order-2", second).ok());
  EXPECT_EQ(Balance(), 6000u);
  const std::vector<ConfirmedLoad> both = server_->ConfirmedLoads(serial_).value();
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].online_counter, 1);
  EXPECT_EQ(both[1].new_balance_fen, 6000u);
}

TEST_F(LoadServerTest, CreateOrderRefusals) {
  const nlohmann::json pay = {{"token", "t1"}};
  EXPECT_EQ(server_->CreateOrder("o-unknown", "10009999999999999999", 5000, pay).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(server_->CreateOrder("o-low", serial_, 999, pay).status().code(),
            ErrorCode::kOutOfRange);
  EXPECT_EQ(server_->CreateOrder("o-high", serial_, 50001, pay).status().code(),
            ErrorCode::kOutOfRange);
  EXPECT_EQ(server_->CreateOrder("o bad", serial_, 5000, pay).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(server_->CreateOrder("o-serial", "1000", 5000, pay).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(payment_.Count("authorize"), 0);  // nothing was charged for any of them
  EXPECT_EQ(server_->Order("o-low").status().code(), ErrorCode::kNotFound);

  // Idempotent by order id: the same body returns the stored order without a second Authorize.
  ASSERT_TRUE(server_->CreateOrder("o-1", serial_, 5000, pay).ok());
  auto again = server_->CreateOrder("o-1", serial_, 5000, pay);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, LoadOrderState::kPaid);
  EXPECT_EQ(payment_.Count("authorize"), 1);
  EXPECT_EQ(server_->CreateOrder("o-1", serial_, 6000, pay).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(server_->CreateOrder("o-1", serial_, 5000, {{"token", "other"}}).status().code(),
            ErrorCode::kAlreadyExists);

  // A decline is recorded, and stays a decline on retry (no second Authorize).
  payment_.authorize_error = FailedPrecondition("response code 51");
  auto declined = server_->CreateOrder("o-2", serial_, 5000, pay);
  EXPECT_EQ(declined.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(declined.status().message().find("51"), std::string::npos);
  EXPECT_EQ(server_->Order("o-2")->state, LoadOrderState::kDeclined);
  payment_.authorize_error = Status::Ok();
  EXPECT_EQ(server_->CreateOrder("o-2", serial_, 5000, pay).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(payment_.Count("authorize"), 2);
  EXPECT_EQ(server_->AuthorizeLoad("o-2", InitializeForLoad(5000)).status().code(),
            ErrorCode::kFailedPrecondition);

  // The network was unreachable: the order stays "authorising" and a retry authorises it.
  payment_.authorize_error = Unavailable("acquirer down");
  EXPECT_EQ(server_->CreateOrder("o-3", serial_, 5000, pay).status().code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(server_->Order("o-3")->state, LoadOrderState::kAuthorising);
  EXPECT_EQ(server_->CancelOrder("o-3", 0).status().code(), ErrorCode::kFailedPrecondition);
  payment_.authorize_error = Status::Ok();
  EXPECT_EQ(server_->CreateOrder("o-3", serial_, 5000, pay)->state, LoadOrderState::kPaid);

  // A lost card takes no top-up.
  ASSERT_TRUE(registry_->ReportLost(serial_).ok());
  EXPECT_EQ(server_->CreateOrder("o-4", serial_, 5000, pay).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(LoadServerTest, AuthorizeLoadRefusalsLeaveTheOrderPaid) {
  ASSERT_TRUE(server_->CreateOrder("o-1", serial_, 5000, {{"token", "t1"}}).ok());

  Bytes bad_mac = InitializeForLoad(5000);
  bad_mac[15] ^= 0x01;
  auto refused = server_->AuthorizeLoad("o-1", bad_mac);
  EXPECT_EQ(refused.status().code(), ErrorCode::kCryptoFailure) << refused.status().ToString();
  // The wallet initialised the card for another amount, or at another terminal: MAC1 shows it.
  EXPECT_EQ(server_->AuthorizeLoad("o-1", InitializeForLoad(6000)).status().code(),
            ErrorCode::kCryptoFailure);
  const TerminalId other = {0x99, 0x00, 0x10, 0x00, 0x00, 0x02};
  EXPECT_EQ(server_->AuthorizeLoad("o-1", InitializeForLoad(5000, other)).status().code(),
            ErrorCode::kCryptoFailure);
  EXPECT_EQ(server_->AuthorizeLoad("o-1", Bytes(15, 0x00)).status().code(),
            ErrorCode::kInvalidArgument);
  Bytes other_algorithm = InitializeForLoad(5000);
  other_algorithm[7] = crypto::PurseAlgorithmId(crypto::PurseAlgorithm::kSm4);
  EXPECT_EQ(server_->AuthorizeLoad("o-1", other_algorithm).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(server_->AuthorizeLoad("no-such", InitializeForLoad(5000)).status().code(),
            ErrorCode::kNotFound);

  const LoadOrder order = server_->Order("o-1").value();
  EXPECT_EQ(order.state, LoadOrderState::kPaid);
  EXPECT_FALSE(order.online_counter.has_value());
  EXPECT_EQ(Balance(), 0u);
}

TEST_F(LoadServerTest, ALoadAboveTheBalanceCapIsRefused) {
  // A migrated card arrives with 95,000 fen; the Beijing cap is 100,000.
  auto phone2 = OpenPhone(dir_, "phone-2", clock_);
  IssuedCard moved =
      registry_
          ->MigrateCard(serial_, {"bj-card-2", "acct-1", phone2->device_id(), phone2->public_key()},
                        95000)
          .value();
  ASSERT_TRUE(phone2->InstallTransitCard(moved.card_id, moved.wrapped_profile).ok());
  phone_ = std::move(phone2);
  ASSERT_TRUE(server_->CreateOrder("o-cap", moved.serial, 10000, {{"token", "t"}}).ok());
  // The card itself refuses to be initialised past its cap (6985); the user cancels.
  Bytes apdu = {0x80, 0x50, 0x00, 0x02, 0x0B, 0x01, 0x00, 0x00, 0x27, 0x10};
  apdu.insert(apdu.end(), kLoadTerminal.begin(), kLoadTerminal.end());
  EXPECT_EQ(HexEncode(phone_->TransmitToTransitCard("bj-card-2", apdu)), "6985");
  EXPECT_EQ(server_->CancelOrder("o-cap", 0)->state, LoadOrderState::kRefunded);
  EXPECT_EQ(payment_.payments["pay-o-cap"], "reversed");

  // The city has since lowered its cap to 98,000 fen: the server refuses what the card (issued
  // with the old cap) would still accept, and the order stays paid.
  nlohmann::json seed = nlohmann::json::parse(std::ifstream(DefaultTransitCitiesPath().value()));
  nlohmann::json lowered;
  for (const nlohmann::json& city : seed["cities"]) {
    if (city["city_code"] == "1000") lowered = city;
  }
  lowered["card_rules"]["balance_cap_fen"] = 98000;
  beijing_ = std::make_shared<CityNetwork>(CityNetwork::FromJson(lowered).value());
  Open();
  ASSERT_TRUE(server_->CreateOrder("o-cap-2", moved.serial, 4000, {{"token", "t"}}).ok());
  auto refused =
      server_->AuthorizeLoad("o-cap-2", InitializeForLoad(4000, kLoadTerminal, "bj-card-2"));
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("cap of 98000"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(server_->Order("o-cap-2")->state, LoadOrderState::kPaid);
  EXPECT_EQ(server_->AuthorizeLoad("o-cap-2", InitializeForLoad(3000, kLoadTerminal, "bj-card-2"))
                .status()
                .code(),
            ErrorCode::kCryptoFailure);  // and a smaller INITIALIZE does not match the order
}

// The answer to AuthorizeLoad was lost: the same card session gets the same MAC2 back (even a
// minute later), and a new session at the same counter gets a new one that the card accepts.
TEST_F(LoadServerTest, LostAnswerRetryReturnsTheSameMac2) {
  ASSERT_TRUE(server_->CreateOrder("o-1", serial_, 5000, {{"token", "t1"}}).ok());
  const Bytes init = InitializeForLoad(5000);
  const LoadAuthorization first = server_->AuthorizeLoad("o-1", init).value();
  clock_.AdvanceMillis(60'000);
  const LoadAuthorization retry = server_->AuthorizeLoad("o-1", init).value();
  EXPECT_EQ(retry.mac2, first.mac2);
  EXPECT_EQ(retry.date, first.date);
  EXPECT_EQ(retry.time, first.time);

  // The wallet lost the session and starts again: same counter, new random, new MAC2.
  const Bytes again = InitializeForLoad(5000);
  ASSERT_NE(Bytes(again.begin() + 8, again.begin() + 12),
            Bytes(init.begin() + 8, init.begin() + 12));
  const LoadAuthorization second = server_->AuthorizeLoad("o-1", again).value();
  EXPECT_NE(second.mac2, first.mac2);
  const crypto::PurseMac tac = Credit(second).value();
  auto loaded = server_->ConfirmLoad("o-1", tac);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->card_time_local, "20261122083100");
  EXPECT_EQ(Balance(), 5000u);
  // The card's counter moved on: the order gets no further MAC2.
  EXPECT_EQ(server_->AuthorizeLoad("o-1", InitializeForLoad(5000)).status().code(),
            ErrorCode::kFailedPrecondition);
}

// CREDIT FOR LOAD happened but the TAC never reached the server: a retry shows the higher counter
// and gets no second MAC2; the card's log proves the load, which is then captured once.
TEST_F(LoadServerTest, ACreditNotConfirmedIsFoundInTheLogAndNotLoadedTwice) {
  (void)LoadThroughTheCard("o-1", 5000);  // the TAC is lost
  EXPECT_EQ(Balance(), 5000u);
  auto retry = server_->AuthorizeLoad("o-1", InitializeForLoad(5000));
  EXPECT_EQ(retry.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(retry.status().message().find("reconcile"), std::string::npos)
      << retry.status().ToString();
  auto cancel = server_->CancelOrder("o-1", 1);
  EXPECT_EQ(cancel.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(cancel.status().message().find("reconcile from the card log first"), std::string::npos);

  const ReconcileReport report = server_->ReconcileFromCardLog(serial_, ReadLog()).value();
  EXPECT_EQ(report.loaded, std::vector<std::string>{"o-1"});
  EXPECT_TRUE(report.needs_review.empty());
  const LoadOrder order = server_->Order("o-1").value();
  EXPECT_EQ(order.state, LoadOrderState::kLoaded);
  EXPECT_TRUE(order.captured);
  EXPECT_EQ(order.new_balance_fen, 5000u);
  EXPECT_EQ(payment_.Count("capture"), 1);
  EXPECT_EQ(payment_.Count("reverse"), 0);
  EXPECT_EQ(Balance(), 5000u);  // loaded once
  // Reconciling again changes nothing.
  EXPECT_TRUE(server_->ReconcileFromCardLog(serial_, ReadLog())->loaded.empty());
  EXPECT_EQ(payment_.Count("capture"), 1);
  ASSERT_EQ(server_->ConfirmedLoads(serial_)->size(), 1u);
}

// An order whose MAC2 was never used while another load took its counter is left for a human.
TEST_F(LoadServerTest, ReconcileReportsAnOrderTheCardPassedWithoutIt) {
  ASSERT_TRUE(server_->CreateOrder("o-a", serial_, 5000, {{"token", "a"}}).ok());
  ASSERT_TRUE(server_->AuthorizeLoad("o-a", InitializeForLoad(5000)).ok());
  const crypto::PurseMac tac_b = LoadThroughTheCard("o-b", 2000);  // also at counter 0
  ASSERT_TRUE(server_->ConfirmLoad("o-b", tac_b).ok());
  const ReconcileReport report = server_->ReconcileFromCardLog(serial_, ReadLog()).value();
  EXPECT_TRUE(report.loaded.empty());
  EXPECT_EQ(report.needs_review, std::vector<std::string>{"o-a"});
  const LoadOrder a = server_->Order("o-a").value();
  EXPECT_EQ(a.state, LoadOrderState::kAuthorised);
  EXPECT_FALSE(a.review_note.empty());
  EXPECT_EQ(Balance(), 2000u);
}

TEST_F(LoadServerTest, CancelRefundsOnlyWhenSafe) {
  const nlohmann::json pay = {{"token", "t"}};
  // Paid, never written: reversed.
  ASSERT_TRUE(server_->CreateOrder("o-paid", serial_, 5000, pay).ok());
  auto cancelled = server_->CancelOrder("o-paid", 0);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, LoadOrderState::kRefunded);
  EXPECT_EQ(payment_.payments["pay-o-paid"], "reversed");
  EXPECT_EQ(server_->CancelOrder("o-paid", 0)->state, LoadOrderState::kRefunded);  // idempotent
  EXPECT_EQ(payment_.Count("reverse"), 1);

  // Authorised but the card's counter did not move (a fresh INITIALIZE shows it): reversed, and
  // the order gets no MAC2 afterwards.
  ASSERT_TRUE(server_->CreateOrder("o-auth", serial_, 5000, pay).ok());
  ASSERT_TRUE(server_->AuthorizeLoad("o-auth", InitializeForLoad(5000)).ok());
  const Bytes fresh = InitializeForLoad(5000);
  EXPECT_EQ(BytesToUint(ByteView(fresh).subspan(4, 2)), 0u);
  EXPECT_EQ(server_->CancelOrder("o-auth", 2).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(server_->CancelOrder("o-auth", 0)->state, LoadOrderState::kRefunded);
  EXPECT_EQ(server_->AuthorizeLoad("o-auth", fresh).status().code(),
            ErrorCode::kFailedPrecondition);

  // The reversal cannot reach the network: the order stays "cancelling" until a retry.
  ASSERT_TRUE(server_->CreateOrder("o-net", serial_, 5000, pay).ok());
  payment_.reverse_error = Unavailable("acquirer down");
  EXPECT_EQ(server_->CancelOrder("o-net", 0).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server_->Order("o-net")->state, LoadOrderState::kCancelling);
  EXPECT_EQ(server_->AuthorizeLoad("o-net", InitializeForLoad(5000)).status().code(),
            ErrorCode::kFailedPrecondition);
  payment_.reverse_error = Status::Ok();
  EXPECT_EQ(server_->CancelOrder("o-net", 0)->state, LoadOrderState::kRefunded);

  // Loaded: never cancelled.
  const crypto::PurseMac tac = LoadThroughTheCard("o-loaded", 5000);
  ASSERT_TRUE(server_->ConfirmLoad("o-loaded", tac).ok());
  EXPECT_EQ(server_->CancelOrder("o-loaded", 1).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(payment_.payments["pay-o-loaded"], "captured");
  EXPECT_EQ(Balance(), 5000u);
}

TEST_F(LoadServerTest, BadTacIsRefusedAndCapturePendingIsRetried) {
  ASSERT_TRUE(server_->CreateOrder("o-1", serial_, 5000, {{"token", "t"}}).ok());
  const LoadAuthorization auth = server_->AuthorizeLoad("o-1", InitializeForLoad(5000)).value();
  const crypto::PurseMac tac = Credit(auth).value();
  crypto::PurseMac wrong = tac;
  wrong[0] ^= 0x80;
  EXPECT_EQ(server_->ConfirmLoad("o-1", wrong).status().code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(server_->ConfirmLoad("o-1", Bytes(3, 0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(server_->Order("o-1")->state, LoadOrderState::kAuthorised);

  payment_.capture_error = Unavailable("acquirer down");
  auto loaded = server_->ConfirmLoad("o-1", tac);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->state, LoadOrderState::kLoaded);
  EXPECT_FALSE(loaded->captured);
  EXPECT_EQ(server_->RetryPendingCaptures().value(), 1u);
  payment_.capture_error = Status::Ok();
  EXPECT_EQ(server_->RetryPendingCaptures().value(), 0u);
  EXPECT_TRUE(server_->Order("o-1")->captured);
  EXPECT_EQ(payment_.payments["pay-o-1"], "captured");
}

TEST_F(LoadServerTest, StatePersistsAcrossAReopen) {
  ASSERT_TRUE(server_->CreateOrder("o-1", serial_, 5000, {{"token", "t"}}).ok());
  const Bytes init = InitializeForLoad(5000);
  const LoadAuthorization auth = server_->AuthorizeLoad("o-1", init).value();

  Open();  // a restarted operator: new connections to the same files
  const LoadOrder order = server_->Order("o-1").value();
  EXPECT_EQ(order.state, LoadOrderState::kAuthorised);
  EXPECT_EQ(order.online_counter, 0);
  EXPECT_EQ(order.balance_before_fen, 0u);
  EXPECT_EQ(server_->AuthorizeLoad("o-1", init)->mac2, auth.mac2);
  EXPECT_EQ(server_->CreateOrder("o-1", serial_, 5000, {{"token", "t"}})->state,
            LoadOrderState::kAuthorised);
  EXPECT_EQ(payment_.Count("authorize"), 1);

  const crypto::PurseMac tac = Credit(auth).value();
  ASSERT_TRUE(server_->ConfirmLoad("o-1", tac).ok());
  Open();
  EXPECT_EQ(server_->Order("o-1")->state, LoadOrderState::kLoaded);
  EXPECT_EQ(server_->OrdersForCard(serial_)->size(), 1u);
  EXPECT_EQ(server_->ConfirmedLoads(serial_)->at(0).new_balance_fen, 5000u);
}

}  // namespace
}  // namespace tapstack::transit
