// transit/card_registry.h with real emulated phones: cards are issued into secure elements,
// blocked through APDUs before deletion, and moved between phones.
#include "transit/card_registry.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "transit/operator_store.h"
#include "transit_test_util.h"

namespace tapstack::transit {
namespace {

using testing::City;
using testing::DemoKeys;
using testing::Field;
using testing::OpenPhone;
using testing::OpenValidator;

constexpr std::int64_t kDayMillis = 24LL * 3600 * 1000;

// Records every call; can decline or be unreachable.
class FakePayment final : public TopUpPayment {
 public:
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t amount_fen,
                                const nlohmann::json&) override {
    calls.push_back("authorize " + std::string(order_id) + " " + std::to_string(amount_fen));
    if (!authorize_error.ok()) return authorize_error;
    return "pay-" + std::string(order_id);
  }
  Status Capture(std::string_view ref) override {
    calls.push_back("capture " + std::string(ref));
    return capture_error;
  }
  Status Reverse(std::string_view ref) override {
    calls.push_back("reverse " + std::string(ref));
    return Status::Ok();
  }
  Result<std::string> CardOnFile(std::string_view ref) override {
    return "card-of-" + std::string(ref);
  }
  Result<std::string> Refund(std::string_view refund_id, std::string_view card_on_file,
                             std::uint32_t amount_fen) override {
    calls.push_back("refund " + std::string(refund_id) + " " + std::string(card_on_file) + " " +
                    std::to_string(amount_fen));
    if (!refund_error.ok()) return refund_error;
    return "credit-" + std::string(refund_id);
  }

  std::vector<std::string> calls;
  Status authorize_error;
  Status capture_error;
  Status refund_error;
};

class CardRegistryTest : public testing::TransitTest {
 protected:
  void SetUp() override {
    TransitTest::SetUp();
    phone_ = OpenPhone(dir_, "phone-1", clock_);
    phone2_ = OpenPhone(dir_, "phone-2", clock_);
    Open("1000");
  }

  void Open(std::string_view city_code) {
    registry_.reset();
    city_ = City(city_code);
    CardRegistryOptions options;
    options.city = city_;
    options.keys = DemoKeys(city_code);
    options.payment = &payment_;
    options.clock = &clock_;
    options.store = OpenOperatorStore(city_code, dir_).value();
    auto registry = CardRegistry::Open(std::move(options));
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
  }

  CardRequest Request(std::string card_id, device::SecureElement& phone,
                      std::string account = "acct-1") {
    return {std::move(card_id),
            std::move(account),
            phone.device_id(),
            phone.public_key(),
            {{"token", "t"}}};
  }
  MigrationRequest Move(std::string card_id, device::SecureElement& phone,
                        std::string account = "acct-1") {
    return {std::move(card_id), std::move(account), phone.device_id(), phone.public_key()};
  }

  IssuedCard IssueAndInstall(const std::string& card_id, device::SecureElement& phone) {
    IssuedCard issued = registry_->IssueCard(Request(card_id, phone)).value();
    EXPECT_TRUE(phone.InstallTransitCard(issued.card_id, issued.wrapped_profile).ok());
    return issued;
  }

  static PurseCommands Card(device::SecureElement& phone, const std::string& card_id) {
    return PurseCommands(
        [&phone, card_id](ByteView apdu) { return phone.TransmitToTransitCard(card_id, apdu); });
  }

  std::shared_ptr<const CityNetwork> city_;
  FakePayment payment_;
  std::unique_ptr<CardRegistry> registry_;
  std::unique_ptr<device::SecureElement> phone_;
  std::unique_ptr<device::SecureElement> phone2_;
};

TEST_F(CardRegistryTest, IssueIsIdempotentByCardId) {
  const IssuedCard first = IssueAndInstall("bj-1", *phone_);
  EXPECT_EQ(first.serial, "10000000000000000001");
  EXPECT_EQ(first.fee_fen, 0u);  // Beijing charges nothing
  EXPECT_EQ(first.start_date, 20261122u);
  EXPECT_EQ(first.expiry_date, 20311122u);
  EXPECT_TRUE(payment_.calls.empty());

  // The card in the phone carries the registry's serial and answers with it.
  PurseCommands card = Card(*phone_, "bj-1");
  ASSERT_TRUE(card.Select().ok());
  const PurseIdentity identity = card.ReadIdentity().value();
  EXPECT_EQ(HexEncode(identity.serial), first.serial);
  EXPECT_EQ(identity.city_code, "1000");
  EXPECT_EQ(identity.expiry_date, 20311122u);

  const IssuedCard retry = registry_->IssueCard(Request("bj-1", *phone_)).value();
  EXPECT_EQ(retry.serial, first.serial);
  EXPECT_FALSE(retry.wrapped_profile.empty());
  EXPECT_EQ(registry_->IssueCard(Request("bj-1", *phone_, "acct-2")).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(registry_->IssueCard(Request("bj-1", *phone2_)).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(registry_->IssueCard(Request("bad id", *phone_)).status().code(),
            ErrorCode::kInvalidArgument);
  CardRequest bad_key = Request("bj-bad-key", *phone_);
  bad_key.device_public_key = Bytes(65, 0x04);
  EXPECT_EQ(registry_->IssueCard(bad_key).status().code(), ErrorCode::kInvalidArgument);
  // Refused before anything was written: not even its serial was taken.
  EXPECT_EQ(registry_->Card("10000000000000000002").status().code(), ErrorCode::kNotFound);

  const IssuedCard second = registry_->IssueCard(Request("bj-2", *phone2_)).value();
  EXPECT_EQ(second.serial, "10000000000000000002");
  const TransitCardInfo info = registry_->Card(first.serial).value();
  EXPECT_EQ(info.status, CardStatus::kActive);
  EXPECT_EQ(info.account_id, "acct-1");
  EXPECT_EQ(info.device_id, "phone-1");
  EXPECT_EQ(info.issued_date, 20261122u);
  EXPECT_EQ(registry_->CardsOfAccount("acct-1")->size(), 2u);

  // A restarted registry keeps its cards and its serial sequence.
  Open("1000");
  EXPECT_EQ(registry_->Card(first.serial)->card_id, "bj-1");
  EXPECT_EQ(registry_->IssueCard(Request("bj-3", *phone_))->serial, "10000000000000000003");
}

TEST_F(CardRegistryTest, ShenzhenChargesTheOpeningFeeOnce) {
  Open("5840");
  const std::uint32_t fee = city_->card_rules().opening_fee_fen;
  ASSERT_GT(fee, 0u);

  payment_.authorize_error = FailedPrecondition("response code 05");
  EXPECT_EQ(registry_->IssueCard(Request("sz-1", *phone_)).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(registry_->CardsOfAccount("acct-1")->empty());  // a decline registers nothing

  payment_.authorize_error = Status::Ok();
  payment_.capture_error = Unavailable("acquirer down");
  EXPECT_EQ(registry_->IssueCard(Request("sz-1", *phone_)).status().code(),
            ErrorCode::kUnavailable);
  const std::vector<TransitCardInfo> pending = registry_->CardsOfAccount("acct-1").value();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].status, CardStatus::kIssuing);

  payment_.capture_error = Status::Ok();
  payment_.calls.clear();
  const IssuedCard issued = registry_->IssueCard(Request("sz-1", *phone_)).value();
  EXPECT_EQ(issued.fee_fen, fee);
  EXPECT_EQ(issued.serial, pending[0].serial);
  EXPECT_EQ(payment_.calls,
            std::vector<std::string>{"capture pay-open-sz-1"});  // no second Authorize
  EXPECT_EQ(registry_->Card(issued.serial)->status, CardStatus::kActive);
  ASSERT_TRUE(phone_->InstallTransitCard(issued.card_id, issued.wrapped_profile).ok());

  payment_.calls.clear();
  EXPECT_EQ(registry_->IssueCard(Request("sz-1", *phone_))->fee_fen, fee);
  EXPECT_TRUE(payment_.calls.empty());
}

// Delete: the wallet blocks the card with the registry's MAC, reads the final balance (GET BALANCE
// still answers on a blocked card) and the registry records the refund and blacklists the serial.
TEST_F(CardRegistryTest, DeleteBlocksTheCardAndRecordsTheRefund) {
  const IssuedCard old_card = IssueAndInstall("bj-1", *phone_);
  // A card with money on it: migrated in with 3,210 fen.
  const IssuedCard card =
      registry_->MigrateCard(old_card.serial, Move("bj-2", *phone2_), 3210).value();
  ASSERT_TRUE(phone2_->InstallTransitCard(card.card_id, card.wrapped_profile).ok());

  PurseCommands purse = Card(*phone2_, "bj-2");
  ASSERT_TRUE(purse.Select().ok());
  const auto challenge = purse.GetChallenge().value();
  EXPECT_EQ(registry_->BlockMac(card.serial, ByteView(challenge).first(7)).status().code(),
            ErrorCode::kInvalidArgument);
  const crypto::PurseMac mac = registry_->BlockMac(card.serial, challenge).value();
  ASSERT_TRUE(purse.ApplicationBlock(mac).ok());
  const std::uint32_t final_balance = purse.GetBalance().value();
  EXPECT_EQ(final_balance, 3210u);
  // The blocked card refuses purchases.
  const TerminalId gate = {0x10, 0, 0, 0, 0, 1};
  auto purchase = purse.InitializeForPurchase(true, 0, gate);
  ASSERT_FALSE(purchase.ok());
  EXPECT_EQ(PurseError(purchase.status()), emv::kSwPurseBlocked);

  const std::int64_t version_before = registry_->Blacklist()->version;
  const ClosedCard closed = registry_->CloseCard(card.serial, final_balance).value();
  EXPECT_EQ(closed.refund_fen, 3210u);
  EXPECT_EQ(closed.balance_refund_fen, 3210u);
  EXPECT_EQ(closed.refund_id, "close-" + card.serial);
  EXPECT_EQ(registry_->Card(card.serial)->status, CardStatus::kClosed);
  const std::vector<Refund> refunds = registry_->RefundsOfAccount("acct-1").value();
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0].amount_fen, 3210u);
  EXPECT_EQ(refunds[0].state, RefundState::kDue);
  // Beijing charged nothing at issue and the card was never topped up: no card to pay back to.
  EXPECT_FALSE(refunds[0].has_card_on_file);
  EXPECT_EQ(registry_->PayRefund(closed.refund_id).status().code(),
            ErrorCode::kFailedPrecondition);
  const BlacklistSnapshot blacklist = registry_->Blacklist().value();
  EXPECT_EQ(blacklist.version, version_before + 1);
  EXPECT_NE(std::find(blacklist.entries.begin(), blacklist.entries.end(),
                      BlacklistEntry{card.serial, crypto::PurseAlgorithm::kTdes}),
            blacklist.entries.end());

  // Idempotent; a different balance for the same closed card is refused.
  EXPECT_EQ(registry_->CloseCard(card.serial, final_balance)->refund_fen, 3210u);
  EXPECT_EQ(registry_->RefundsOfAccount("acct-1")->size(), 1u);
  EXPECT_EQ(registry_->CloseCard(card.serial, 1).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CloseCard(old_card.serial, 0).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CloseCard(card.serial, 100001).status().code(), ErrorCode::kInvalidArgument);
}

// The refund goes back to the bank card that paid last for the card: here the opening charge of
// the card it was migrated from. A failed credit leaves it due with the reason; a retry pays it
// once; paying again sends nothing.
TEST_F(CardRegistryTest, RefundIsPaidBackToTheCardThatPaid) {
  Open("5840");  // Shenzhen: an opening fee, balances refunded on delete
  const IssuedCard first = IssueAndInstall("sz-1", *phone_);
  const IssuedCard card = registry_->MigrateCard(first.serial, Move("sz-2", *phone2_), 700).value();
  const ClosedCard closed = registry_->CloseCard(card.serial, 700).value();
  ASSERT_EQ(closed.refund_fen, 700u);
  Refund refund = registry_->RefundById(closed.refund_id).value();
  EXPECT_TRUE(refund.has_card_on_file);
  EXPECT_EQ(refund.state, RefundState::kDue);

  payment_.calls.clear();
  payment_.refund_error = Unavailable("DE39 91, outcome unknown");
  refund = registry_->PayRefund(closed.refund_id).value();
  EXPECT_EQ(refund.state, RefundState::kDue);
  EXPECT_NE(refund.last_error.find("DE39 91"), std::string::npos);

  payment_.refund_error = Status::Ok();
  refund = registry_->PayRefund(closed.refund_id).value();
  EXPECT_EQ(refund.state, RefundState::kPaid);
  EXPECT_EQ(refund.credit_ref, "credit-" + closed.refund_id);
  EXPECT_TRUE(refund.last_error.empty());
  const std::string credit = "refund " + closed.refund_id + " card-of-pay-open-sz-1 700";
  EXPECT_EQ(payment_.calls, (std::vector<std::string>{credit, credit}));

  // Paid, also after a restart: nothing is sent again.
  Open("5840");
  EXPECT_EQ(registry_->PayRefund(closed.refund_id)->state, RefundState::kPaid);
  EXPECT_EQ(payment_.calls.size(), 2u);
  EXPECT_EQ(registry_->RefundsOfAccount("acct-1")->at(0).state, RefundState::kPaid);
  EXPECT_EQ(registry_->PayRefund("close-nope").status().code(), ErrorCode::kNotFound);
}

// A top-up paid after the opening charge is the newer payment: the refund goes to its card. A
// credit that a stopped process sent without recording its answer is "unknown" and is never sent
// again.
TEST_F(CardRegistryTest, RefundGoesToTheNewestPaymentAndAnUnansweredOneIsNeverResent) {
  Open("5840");
  const IssuedCard card = IssueAndInstall("sz-1", *phone_);
  auto store = OpenOperatorStore("5840", dir_).value();
  ASSERT_TRUE(store
                  ->Execute("INSERT INTO transit_load_orders (order_id, card_serial, amount_fen,"
                            " request_sha256, state, captured, card_on_file, created_unix_ms,"
                            " updated_unix_ms) VALUES ('topup-1', ?, 5000, ?, 'loaded', ?,"
                            " 'card-of-topup', 1, 2)",
                            {card.serial, ByteView(Bytes(32, 0)), true})
                  .ok());
  const ClosedCard closed = registry_->CloseCard(card.serial, 4000).value();
  payment_.calls.clear();
  // The answer of an earlier process's credit was never recorded.
  ASSERT_TRUE(store
                  ->Execute("UPDATE transit_refunds SET paying_unix_ms = 1 WHERE refund_id = ?",
                            {closed.refund_id})
                  .ok());
  EXPECT_EQ(registry_->PayRefund(closed.refund_id)->state, RefundState::kUnknown);
  EXPECT_TRUE(payment_.calls.empty());
  ASSERT_TRUE(store
                  ->Execute("UPDATE transit_refunds SET paying_unix_ms = NULL WHERE refund_id = ?",
                            {closed.refund_id})
                  .ok());
  EXPECT_EQ(registry_->PayRefund(closed.refund_id)->state, RefundState::kPaid);
  EXPECT_EQ(payment_.calls, (std::vector<std::string>{"refund " + closed.refund_id +
                                                      " card-of-topup 4000"}));
}

TEST_F(CardRegistryTest, WuhanRefundsNoBalanceOnDelete) {
  Open("5210");
  ASSERT_FALSE(city_->card_rules().refund_on_delete);
  const IssuedCard card = IssueAndInstall("wh-1", *phone_);
  const ClosedCard closed = registry_->CloseCard(card.serial, 800).value();
  EXPECT_EQ(closed.refund_fen, 0u);
  EXPECT_TRUE(closed.refund_id.empty());
  EXPECT_TRUE(registry_->RefundsOfAccount("acct-1")->empty());
  EXPECT_EQ(registry_->Card(card.serial)->final_balance_fen, 800u);
}

// A lost phone: the card is blacklisted (a gate then blocks it) and moves to a new phone with the
// balance the operator knows.
TEST_F(CardRegistryTest, MigrationCarriesTheBalanceAndBlacklistsTheOldSerial) {
  const IssuedCard old_card = IssueAndInstall("bj-1", *phone_);
  ASSERT_TRUE(registry_->ReportLost(old_card.serial).ok());
  ASSERT_TRUE(registry_->ReportLost(old_card.serial).ok());  // idempotent
  EXPECT_EQ(registry_->Card(old_card.serial)->status, CardStatus::kLost);
  EXPECT_EQ(registry_->Blacklist()->version, 1);

  EXPECT_EQ(registry_->MigrateCard(old_card.serial, Move("bj-2", *phone2_, "acct-2"), 1234)
                .status()
                .code(),
            ErrorCode::kFailedPrecondition);  // another account
  const IssuedCard moved =
      registry_->MigrateCard(old_card.serial, Move("bj-2", *phone2_), 1234).value();
  EXPECT_NE(moved.serial, old_card.serial);
  EXPECT_EQ(moved.opening_balance_fen, 1234u);
  EXPECT_EQ(moved.fee_fen, 0u);
  ASSERT_TRUE(phone2_->InstallTransitCard(moved.card_id, moved.wrapped_profile).ok());
  PurseCommands purse = Card(*phone2_, "bj-2");
  ASSERT_TRUE(purse.Select().ok());
  EXPECT_EQ(purse.GetBalance().value(), 1234u);
  EXPECT_EQ(HexEncode(purse.ReadIdentity()->serial), moved.serial);

  // A retry returns the same new card; the old card is migrated and points to it.
  EXPECT_EQ(registry_->MigrateCard(old_card.serial, Move("bj-2", *phone2_), 1234)->serial,
            moved.serial);
  const TransitCardInfo old_info = registry_->Card(old_card.serial).value();
  EXPECT_EQ(old_info.status, CardStatus::kMigrated);
  EXPECT_EQ(old_info.replaced_by, moved.serial);
  EXPECT_EQ(registry_->Card(moved.serial)->replaces, old_card.serial);
  EXPECT_EQ(registry_->MigrateCard(old_card.serial, Move("bj-3", *phone2_), 1234).status().code(),
            ErrorCode::kFailedPrecondition);  // the old card has moved already

  // The gate that downloads the blacklist blocks the old card (say, found again or cloned).
  const BlacklistSnapshot blacklist = registry_->Blacklist().value();
  ASSERT_EQ(blacklist.entries.size(), 1u);
  EXPECT_EQ(blacklist.entries[0].card_serial, old_card.serial);
  auto gate =
      OpenValidator(dir_, "bj-101-in", ValidatorKind::kMetroEntry, city_, 1, 101, clock_, 1);
  ASSERT_TRUE(gate->ApplyBlacklist(blacklist.version, blacklist.entries).ok());
  const TapResult tap = gate->Tap(Field(*phone_));
  EXPECT_FALSE(tap.open);
  EXPECT_TRUE(tap.blocked);
}

TEST_F(CardRegistryTest, MigrationsAreLimitedPerRollingYear) {
  Open("5840");  // Shenzhen: one migration a year
  ASSERT_EQ(city_->card_rules().migrations_per_year, 1u);
  const IssuedCard first = IssueAndInstall("sz-1", *phone_);
  const IssuedCard second =
      registry_->MigrateCard(first.serial, Move("sz-2", *phone2_), 500).value();
  auto refused = registry_->MigrateCard(second.serial, Move("sz-3", *phone_), 500);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("allows 1"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(registry_->Card(second.serial)->status, CardStatus::kActive);  // nothing changed

  clock_.AdvanceMillis(364 * kDayMillis);
  EXPECT_EQ(registry_->MigrateCard(second.serial, Move("sz-3", *phone_), 500).status().code(),
            ErrorCode::kFailedPrecondition);
  clock_.AdvanceMillis(2 * kDayMillis);
  const IssuedCard third =
      registry_->MigrateCard(second.serial, Move("sz-3", *phone_), 500).value();
  EXPECT_EQ(third.opening_balance_fen, 500u);
  EXPECT_EQ(third.deposit_fen, registry_->Card(first.serial)->deposit_fen);
}

TEST_F(CardRegistryTest, BlacklistVersionGrowsOnlyWithChanges) {
  EXPECT_EQ(registry_->Blacklist()->version, 0);
  ASSERT_TRUE(registry_->AddToBlacklist("10000000000000000042", "TAC failed in clearing").ok());
  ASSERT_TRUE(registry_->AddToBlacklist("10000000000000000042", "counter reused").ok());
  EXPECT_EQ(registry_->Blacklist()->version, 1);
  ASSERT_TRUE(registry_->AddToBlacklist("10000000000000000043", "counter reused").ok());
  const BlacklistSnapshot blacklist = registry_->Blacklist().value();
  EXPECT_EQ(blacklist.version, 2);
  ASSERT_EQ(blacklist.entries.size(), 2u);
  EXPECT_EQ(blacklist.entries[1].card_serial, "10000000000000000043");
  EXPECT_EQ(registry_->AddToBlacklist("1000", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(registry_->AddToBlacklist("10000000000000000044", "").code(),
            ErrorCode::kInvalidArgument);
  Open("1000");
  EXPECT_EQ(registry_->Blacklist()->version, 2);
}

}  // namespace
}  // namespace tapstack::transit
