// ContractBook: conditional payments enforced by the operator — a prepaid class package released
// lesson by lesson and refunded on cancel, escrow confirm and expiry, a subsidy spendable only at
// allowed merchant categories, every refusal, idempotent retries, reopen between steps and the
// audit equalities (Σ wallets + purses + escrows + float == central_bank_position; each escrow ==
// LockedFen).
#include "dcep/contract_book.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "dcep_test_util.h"

namespace tapstack::dcep {
namespace {

using nlohmann::json;
using testing::DcepTest;
using testing::Must;

constexpr char kOp[] = "boc";
constexpr char kSchool[] = "m-chengdu-school";  // seed: boc, MCC 8299
constexpr char kBookshop[] = "m-chengdu-books";   // added below: boc, MCC 5942
constexpr char kMahjong[] = "m-chengdu-mahjong";  // added below: boc, MCC 7995
constexpr std::int64_t kDayMillis = 24 * testing::kHourMillis;

class ContractBookTest : public DcepTest {
 protected:
  void SetUp() override {
    DcepTest::SetUp();
    Open();
  }

  // The seed network (icbc, ccb, boc) plus two merchants at boc for the subsidy.
  void Open() {
    DcepNetworkOptions options;
    options.data_dir = dir_;
    options.config = testing::SeedConfig();
    options.config.merchants.push_back({kBookshop, "Chengdu Books", kOp, "5942"});
    options.config.merchants.push_back({kMahjong, "Chengdu Mahjong Hall", kOp, "7995"});
    options.clock = &clock_;
    options.random = &random_;
    options.operator_ids = {"icbc", "ccb", "boc"};
    network_ = Must(DcepNetwork::Open(std::move(options)), "open network");
  }
  void Reopen() { ASSERT_OK(network_->ReopenOperator(kOp)); }

  ContractBook& Book() { return Op(kOp).contracts(); }
  std::int64_t Balance(const std::string& wallet) {
    return Must(Op(kOp).Wallet(wallet)).balance_fen;
  }
  std::int64_t MerchantBalance(const std::string& merchant) {
    return Balance(MerchantWalletId(kOp, merchant));
  }

  json Prepaid(const std::string& payer, std::int64_t amount, std::int64_t units) {
    return {{"template", "prepaid_service"}, {"payer_wallet", payer},
            {"merchant_id", kSchool},        {"amount_fen", amount},
            {"units", units},                {"unit_name", "lesson"},
            {"expires_unix_ms", clock_.NowUnixMillis() + 90 * kDayMillis}};
  }
  json Escrow(const std::string& payer, const std::string& payee, std::int64_t amount) {
    return {{"template", "escrow"},
            {"payer_wallet", payer},
            {"payee_wallet", payee},
            {"amount_fen", amount},
            {"expires_unix_ms", clock_.NowUnixMillis() + 7 * kDayMillis}};
  }
  json Subsidy(const std::string& funder, const std::string& beneficiary, std::int64_t amount) {
    return {{"template", "subsidy"},
            {"payer_wallet", funder},
            {"beneficiary_wallet", beneficiary},
            {"amount_fen", amount},
            {"allowed_mcc", {"5942", "5411"}},
            {"expires_unix_ms", clock_.NowUnixMillis() + 30 * kDayMillis}};
  }

  // The audit holds: the operator's (escrows included) and the network's.
  OperatorAudit ExpectAudited() {
    const OperatorAudit audit = Must(Op(kOp).Audit(), "audit");
    EXPECT_EQ(audit.position_fen,
              audit.float_fen + audit.wallets_fen + audit.purses_fen + audit.escrows_fen);
    ExpectNetworkBalanced();
    return audit;
  }
};

TEST_F(ContractBookTest, PrepaidClassPackageReleasesLessonByLessonAndRefundsTheRestOnCancel) {
  const std::string parent = FundedWallet(kOp, "13800000001", 150'000, /*real_name=*/true);
  const std::string school = MerchantWalletId(kOp, kSchool);
  // 10 lessons for 999.99 yuan: shares of 9,999 or 10,000 fen that add up to the fen.
  const ContractOutcome created = Must(Book().Create(Prepaid(parent, 99'999, 10).dump(), "pkg-1"));
  const std::string id = created.contract.contract_id;
  EXPECT_EQ(Must(ContractOperatorId(id)), kOp);
  EXPECT_EQ(created.entry.kind, "contract_lock");
  EXPECT_EQ(created.entry.contract_id, id);
  EXPECT_EQ(created.contract.state, "active");
  EXPECT_EQ(created.contract.locked_fen, 99'999);
  EXPECT_EQ(Balance(parent), 150'000 - 99'999);
  EXPECT_EQ(ExpectAudited().escrows_fen, 99'999);

  std::int64_t released = 0;
  for (int lesson = 1; lesson <= 4; ++lesson) {
    const ContractOutcome d =
        Must(Book().Deliver(id, school, 1, "lesson-" + std::to_string(lesson)));
    EXPECT_EQ(d.entry.kind, "contract_release");
    EXPECT_EQ(d.entry.merchant_id, kSchool);
    EXPECT_EQ(d.entry.amount_fen, lesson == 1 ? 9'999 : 10'000);
    released += d.entry.amount_fen;
    EXPECT_EQ(d.contract.progress.units_delivered, lesson);
    EXPECT_EQ(d.contract.progress.released_fen, released);
    EXPECT_EQ(MerchantBalance(kSchool), released);
    if (lesson == 2) Reopen();  // state and balances survive a restart between lessons
  }
  EXPECT_EQ(released, 39'999);  // floor(99999 · 4 / 10)
  EXPECT_EQ(ExpectAudited().escrows_fen, 99'999 - 39'999);

  // The parent cancels: the six undelivered lessons come back, to the fen.
  const ContractOutcome cancelled = Must(Book().Cancel(id, parent, "stop"));
  EXPECT_EQ(cancelled.entry.kind, "contract_refund");
  EXPECT_EQ(cancelled.entry.amount_fen, 60'000);
  EXPECT_EQ(cancelled.contract.state, "closed");
  EXPECT_EQ(cancelled.contract.locked_fen, 0);
  EXPECT_EQ(cancelled.contract.progress.released_fen + cancelled.contract.progress.refunded_fen,
            99'999);
  EXPECT_EQ(Balance(parent), 150'000 - 39'999);
  EXPECT_EQ(MerchantBalance(kSchool), 39'999);
  EXPECT_EQ(ExpectAudited().escrows_fen, 0);

  Reopen();
  const Contract after = Must(Book().Get(id));
  EXPECT_EQ(after.state, "closed");
  EXPECT_EQ(after.progress.units_delivered, 4);
  EXPECT_EQ(after.progress.refunded_fen, 60'000);
  ASSERT_EQ(after.events.size(), 6u);  // create, 4 × deliver, cancel
  EXPECT_EQ(after.events[0].action, "create");
  EXPECT_EQ(after.events[5].action, "cancel");
  EXPECT_EQ(after.events[5].seq, 6);
  EXPECT_EQ(after.events[5].status, "posted");
  EXPECT_EQ(after.terms.unit_name, "lesson");
  // The parent's history shows the lock and the refund, tagged with the contract.
  const HistoryPage history = Must(Op(kOp).History(parent, 0, 10));
  ASSERT_GE(history.entries.size(), 2u);
  EXPECT_EQ(history.entries[0].kind, "contract_refund");
  EXPECT_EQ(history.entries[0].contract_id, id);
  EXPECT_EQ(history.entries[1].kind, "contract_lock");
}

TEST_F(ContractBookTest, DeliveringEveryUnitReleasesExactlyTheAmountAndCloses) {
  const std::string parent = FundedWallet(kOp, "13800000001", 100'000);
  const std::string school = MerchantWalletId(kOp, kSchool);
  const std::string id =
      Must(Book().Create(Prepaid(parent, 100'000, 3).dump(), "pkg")).contract.contract_id;
  Must(Book().Deliver(id, school, 1, "l1"));
  const ContractOutcome rest = Must(Book().Deliver(id, school, 2, "l2-3"));
  EXPECT_EQ(rest.entry.amount_fen, 66'667);
  EXPECT_EQ(rest.contract.state, "closed");
  EXPECT_EQ(MerchantBalance(kSchool), 100'000);
  EXPECT_EQ(Balance(parent), 0);
  auto more = Book().Deliver(id, school, 1, "l4");
  EXPECT_EQ(more.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(more.status().message(), "contract: closed; nothing is locked any more");
  ExpectAudited();
}

TEST_F(ContractBookTest, PrepaidRefusalsNameTheRule) {
  const std::string parent = FundedWallet(kOp, "13800000001", 100'000);
  const std::string stranger = FundedWallet(kOp, "13800000002", 0);
  const std::string school = MerchantWalletId(kOp, kSchool);
  const std::string id =
      Must(Book().Create(Prepaid(parent, 10'000, 10).dump(), "pkg")).contract.contract_id;

  auto by_payer = Book().Deliver(id, parent, 1, "x1");
  EXPECT_EQ(by_payer.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(by_payer.status().message(),
            "actor_wallet: only the merchant's wallet may deliver on a prepaid_service contract");
  auto by_merchant = Book().Cancel(id, school, "x2");
  EXPECT_EQ(by_merchant.status().message(),
            "actor_wallet: only the payer may cancel a prepaid_service contract");
  EXPECT_EQ(Book().Cancel(id, stranger, "x3").status().code(), ErrorCode::kFailedPrecondition);
  auto confirm = Book().Confirm(id, parent, "x4");
  EXPECT_EQ(confirm.status().message(), "confirm: only an escrow contract is confirmed");
  auto over = Book().Deliver(id, school, 11, "x5");
  EXPECT_EQ(over.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(over.status().message(), "units: 10 of 10 remain, 11 delivered");
  EXPECT_EQ(Book().Deliver(id, school, 0, "x6").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Book().Deliver("ct-boc-0000000000000000", school, 1, "x7").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Book().Deliver("ct-icbc-0000000000000000", school, 1, "x8").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Book().Deliver("contract-1", school, 1, "x9").status().code(),
            ErrorCode::kInvalidArgument);
  // Nothing moved.
  EXPECT_EQ(MerchantBalance(kSchool), 0);
  EXPECT_EQ(Must(Book().Get(id)).locked_fen, 10'000);

  // A refusal is the key's first outcome: the same request answers it again; another request
  // under the key is refused as reuse.
  EXPECT_EQ(Book().Deliver(id, parent, 1, "x1").status().message(), by_payer.status().message());
  auto reused = Book().Deliver(id, school, 1, "x1");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);

  // After expiry nothing but the automatic refund runs.
  clock_.AdvanceMillis(90 * kDayMillis);
  auto late = Book().Deliver(id, school, 1, "late");
  EXPECT_EQ(late.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(late.status().message().rfind("contract: expired at ", 0), 0u);
  EXPECT_EQ(Must(Book().ExpireContracts()), 1);
  EXPECT_EQ(Balance(parent), 100'000);
  EXPECT_EQ(Must(Book().Get(id)).state, "closed");
  ExpectAudited();
}

TEST_F(ContractBookTest, EscrowConfirmReleasesAllToThePayee) {
  const std::string buyer = FundedWallet(kOp, "13800000001", 50'000);
  const std::string seller = FundedWallet(kOp, "13800000002", 0);
  const std::string id =
      Must(Book().Create(Escrow(buyer, seller, 30'000).dump(), "deal")).contract.contract_id;
  EXPECT_EQ(Balance(buyer), 20'000);
  auto by_seller = Book().Confirm(id, seller, "c0");
  EXPECT_EQ(by_seller.status().message(),
            "actor_wallet: only the payer may confirm an escrow contract");
  EXPECT_EQ(Book().Cancel(id, buyer, "c1").status().message(),
            "actor_wallet: only the payee may cancel an escrow contract");
  EXPECT_EQ(Book().Deliver(id, buyer, 1, "c2").status().message(),
            "deliver: only a prepaid_service contract delivers units");
  Reopen();
  const ContractOutcome confirmed = Must(Book().Confirm(id, buyer, "ok"));
  EXPECT_EQ(confirmed.entry.amount_fen, 30'000);
  EXPECT_EQ(confirmed.entry.credit_wallet, seller);
  EXPECT_EQ(confirmed.contract.state, "closed");
  EXPECT_EQ(Balance(seller), 30'000);
  EXPECT_EQ(Balance(buyer), 20'000);
  // A retry answers the first outcome, and moves nothing.
  const ContractOutcome again = Must(Book().Confirm(id, buyer, "ok"));
  EXPECT_TRUE(again.replayed);
  EXPECT_TRUE(again.entry.replayed);
  EXPECT_EQ(again.entry.entry_id, confirmed.entry.entry_id);
  EXPECT_EQ(Balance(seller), 30'000);
  // The payee declining another deal refunds the payer.
  const std::string id2 =
      Must(Book().Create(Escrow(buyer, seller, 5'000).dump(), "deal-2")).contract.contract_id;
  EXPECT_EQ(Must(Book().Cancel(id2, seller, "decline")).entry.amount_fen, 5'000);
  EXPECT_EQ(Balance(buyer), 20'000);
  ExpectAudited();
}

TEST_F(ContractBookTest, EscrowExpiresIntoARefundAlsoAtOpen) {
  const std::string buyer = FundedWallet(kOp, "13800000001", 50'000);
  const std::string seller = FundedWallet(kOp, "13800000002", 0);
  const std::string a =
      Must(Book().Create(Escrow(buyer, seller, 10'000).dump(), "a")).contract.contract_id;
  clock_.AdvanceMillis(kDayMillis);
  const std::string b =
      Must(Book().Create(Escrow(buyer, seller, 20'000).dump(), "b")).contract.contract_id;
  EXPECT_EQ(Balance(buyer), 20'000);
  EXPECT_EQ(Must(Book().ExpireContracts()), 0);  // nothing due yet

  clock_.AdvanceMillis(6 * kDayMillis);  // a is due (7 days), b not yet
  auto late = Book().Confirm(a, buyer, "late");
  EXPECT_EQ(late.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Must(Book().ExpireContracts()), 1);
  EXPECT_EQ(Must(Book().ExpireContracts()), 0);  // idempotent
  EXPECT_EQ(Balance(buyer), 30'000);
  const Contract expired = Must(Book().Get(a));
  EXPECT_EQ(expired.state, "closed");
  EXPECT_EQ(expired.progress.refunded_fen, 10'000);
  EXPECT_EQ(expired.events.back().action, "expire");
  EXPECT_TRUE(expired.events.back().actor_wallet.empty());

  // b falls due while the operator is down: Open refunds it.
  ASSERT_OK(network_->ReopenOperator(kOp));
  clock_.AdvanceMillis(kDayMillis);
  Reopen();
  EXPECT_EQ(Balance(buyer), 50'000);
  EXPECT_EQ(Must(Book().Get(b)).state, "closed");
  EXPECT_EQ(Balance(seller), 0);
  EXPECT_EQ(ExpectAudited().escrows_fen, 0);
}

TEST_F(ContractBookTest, SubsidySpendsOnlyAtAllowedCategoriesAndReturnsTheRestAtExpiry) {
  const std::string funder = FundedWallet(kOp, "13800000001", 1'000'000, /*real_name=*/true);
  const std::string citizen = FundedWallet(kOp, "13800000002", 0);
  const std::string id =
      Must(Book().Create(Subsidy(funder, citizen, 20'000).dump(), "voucher")).contract.contract_id;
  const ContractOutcome spent = Must(Book().SpendSubsidy(id, citizen, kBookshop, 5'000, "s1"));
  EXPECT_EQ(spent.entry.merchant_id, kBookshop);
  EXPECT_EQ(spent.contract.locked_fen, 15'000);
  EXPECT_EQ(MerchantBalance(kBookshop), 5'000);
  EXPECT_EQ(Balance(citizen), 0);  // the subsidy never passes through the citizen's wallet

  auto mahjong = Book().SpendSubsidy(id, citizen, kMahjong, 1'000, "s2");
  EXPECT_EQ(mahjong.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(mahjong.status().message(),
            "mcc: the subsidy may not be spent at merchant category 7995");
  auto other_op = Book().SpendSubsidy(id, citizen, "m-shenzhen-grocer", 1'000, "s3");  // ccb, 5411
  EXPECT_EQ(other_op.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(other_op.status().message().find("keeps its wallet at ccb"), std::string::npos);
  EXPECT_EQ(Book().SpendSubsidy(id, citizen, "m-nowhere", 1, "s4").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Book().SpendSubsidy(id, funder, kBookshop, 1'000, "s5").status().message(),
            "actor_wallet: only the beneficiary may spend a subsidy");
  EXPECT_EQ(Book().SpendSubsidy(id, citizen, kBookshop, 15'001, "s6").status().message(),
            "amount_fen: 15000 fen left in the subsidy, 15001 fen requested");
  EXPECT_EQ(Book().Cancel(id, funder, "s7").status().message(),
            "cancel: a subsidy is not cancelled; its rest returns to the funder at expiry");
  EXPECT_EQ(MerchantBalance(kMahjong), 0);
  EXPECT_EQ(ExpectAudited().escrows_fen, 15'000);

  clock_.AdvanceMillis(30 * kDayMillis);
  EXPECT_EQ(Book().SpendSubsidy(id, citizen, kBookshop, 1'000, "s8").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Must(Book().ExpireContracts()), 1);
  EXPECT_EQ(Balance(funder), 1'000'000 - 5'000);
  EXPECT_EQ(ExpectAudited().escrows_fen, 0);
}

TEST_F(ContractBookTest, LockIsRefusedLikeAPaymentAndTheRefusalIsRemembered) {
  const std::string payer = FundedWallet(kOp, "13800000001", 300'000);  // tier 4
  const std::string payee = FundedWallet(kOp, "13800000002", 0);
  // Per payment (tier 4: 200,000 fen).
  auto big = Book().Create(Escrow(payer, payee, 200'001).dump(), "big");
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(big.status().message(),
            "payment_max_fen: tier 4 allows 200000 fen per payment; requested 200001 fen");
  // Daily (tier 4: 500,000 fen a day): locks count as spending, and survive a restart.
  Must(Book().Create(Escrow(payer, payee, 200'000).dump(), "d1"));
  Reopen();
  EXPECT_EQ(Must(Op(kOp).Wallet(payer)).spent_today_fen, 200'000);
  PaymentOrder order{payer, "", payee, "", 100'000, "pay", ""};
  Must(Op(kOp).Pay(order));
  // Insufficient funds (0 fen left after 300,000).
  auto poor = Book().Create(Escrow(payer, payee, 1).dump(), "poor");
  EXPECT_EQ(poor.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(poor.status().message(), "balance: 0 fen available, 1 fen requested");
  EnsureFloat(kOp, 300'000);
  Must(Op(kOp).Exchange(payer, 300'000, false, "top-up"));
  Must(Book().Create(Escrow(payer, payee, 150'000).dump(), "d2"));
  auto daily = Book().Create(Escrow(payer, payee, 50'001).dump(), "d3");
  EXPECT_EQ(daily.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(daily.status().message(),
            "daily_max_fen: tier 4 allows 500000 fen a day; 450000 fen spent today, 50001 fen "
            "requested");
  // The refusal is the first outcome of its key, even now that the funds are there.
  EXPECT_EQ(Book().Create(Escrow(payer, payee, 1).dump(), "poor").status().message(),
            poor.status().message());
  // Parties: unknown wallets, a merchant of another operator, terms already past.
  auto nobody = Book().Create(Escrow(payer, "w0000000000000000", 1).dump(), "n");
  EXPECT_EQ(nobody.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(nobody.status().message().rfind("payee_wallet: ", 0), 0u);
  json coffee = Prepaid(payer, 1'000, 1);
  coffee["merchant_id"] = "m-beijing-coffee";  // icbc
  auto elsewhere = Book().Create(coffee.dump(), "c");
  EXPECT_EQ(elsewhere.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(elsewhere.status().message().rfind("merchant_id: merchant m-beijing-coffee keeps its "
                                               "wallet at icbc",
                                               0),
            0u);
  json past = Escrow(payer, payee, 1);
  past["expires_unix_ms"] = clock_.NowUnixMillis();
  EXPECT_EQ(Book().Create(past.dump(), "p").status().message(), "expires_unix_ms: already past");
  EXPECT_EQ(Book().Create("{}", "e").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Balance(payer), 150'000);
  EXPECT_EQ(ExpectAudited().escrows_fen, 350'000);
}

TEST_F(ContractBookTest, RetriesAnswerTheFirstOutcomeAcrossRestarts) {
  const std::string parent = FundedWallet(kOp, "13800000001", 100'000);
  const std::string school = MerchantWalletId(kOp, kSchool);
  const json terms = Prepaid(parent, 50'000, 5);
  const ContractOutcome first = Must(Book().Create(terms.dump(), "k"));
  EXPECT_FALSE(first.replayed);
  // The same terms written differently are the same request.
  const ContractOutcome again = Must(Book().Create(json::parse(terms.dump()).dump(2), "k"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.contract.contract_id, first.contract.contract_id);
  EXPECT_EQ(again.entry.entry_id, first.entry.entry_id);
  EXPECT_EQ(Balance(parent), 50'000);
  json other = terms;
  other["amount_fen"] = 40'000;
  auto reused = Book().Create(other.dump(), "k");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);

  const std::string id = first.contract.contract_id;
  const ContractOutcome lesson = Must(Book().Deliver(id, school, 2, "week-1"));
  Reopen();
  const ContractOutcome retried = Must(Book().Deliver(id, school, 2, "week-1"));
  EXPECT_TRUE(retried.replayed);
  EXPECT_EQ(retried.entry.entry_id, lesson.entry.entry_id);
  EXPECT_EQ(retried.contract.progress.units_delivered, 2);
  EXPECT_EQ(MerchantBalance(kSchool), 20'000);
  EXPECT_EQ(Book().Deliver(id, school, 1, "week-1").status().code(), ErrorCode::kAlreadyExists);
  // The create retry still answers after the contract expired and closed.
  clock_.AdvanceMillis(91 * kDayMillis);
  Reopen();  // Open refunds the rest
  EXPECT_EQ(Balance(parent), 100'000 - 20'000);
  EXPECT_TRUE(Must(Book().Create(terms.dump(), "k")).replayed);
  EXPECT_EQ(Balance(parent), 80'000);
  ExpectAudited();
}

TEST_F(ContractBookTest, AuditSumsEscrowsOfManyContractsAcrossAWholeRestart) {
  const std::string a = FundedWallet(kOp, "13800000001", 100'000, true);
  const std::string b = FundedWallet(kOp, "13800000002", 100'000, true);
  std::int64_t locked = 0;
  for (int i = 1; i <= 5; ++i) {
    Must(Book().Create(Escrow(a, b, 1'000 * i).dump(), "e" + std::to_string(i)));
    Must(Book().Create(Subsidy(b, a, 700 * i).dump(), "s" + std::to_string(i)));
    locked += 1'700 * i;
  }
  EXPECT_EQ(ExpectAudited().escrows_fen, locked);
  network_.reset();  // the central bank and every operator close
  Open();
  const OperatorAudit audit = ExpectAudited();
  EXPECT_EQ(audit.escrows_fen, locked);
  EXPECT_EQ(audit.wallets_fen, 200'000 - locked);
}

// A crash after the journal (and contract row) committed but before the ledger wrote the
// transfer, simulated by putting back the operator's ledger log as it was before the call: Open
// re-submits the transfer, so the contract's progress and its escrow agree again.
TEST_F(ContractBookTest, CrashBetweenJournalAndLedgerIsRecoveredAtOpen) {
  const std::string parent = FundedWallet(kOp, "13800000001", 100'000);
  const std::string school = MerchantWalletId(kOp, kSchool);
  const std::string id =
      Must(Book().Create(Prepaid(parent, 10'000, 10).dump(), "pkg")).contract.contract_id;
  const std::filesystem::path wal = dir_ / "operator_boc.wal";
  const std::filesystem::path saved = dir_ / "operator_boc.wal.before";
  ASSERT_TRUE(std::filesystem::exists(wal));
  std::filesystem::copy_file(wal, saved);
  Must(Book().Deliver(id, school, 3, "three"));
  network_.reset();
  std::filesystem::copy_file(saved, wal, std::filesystem::copy_options::overwrite_existing);
  Open();
  const Contract c = Must(Book().Get(id));
  EXPECT_EQ(c.progress.units_delivered, 3);
  EXPECT_EQ(c.locked_fen, 7'000);
  EXPECT_EQ(MerchantBalance(kSchool), 3'000);
  EXPECT_EQ(ExpectAudited().escrows_fen, 7'000);
  EXPECT_TRUE(Must(Book().Deliver(id, school, 3, "three")).replayed);
}

// The ledger refusing a journalled lock at recovery (forced here by losing the escrow account,
// which a real crash cannot: accounts are durable before the journal row): the entry fails,
// Reconcile removes the contract that never locked, and the payer keeps the value.
TEST_F(ContractBookTest, ALockTheLedgerRefusesAtRecoveryLeavesNoContract) {
  const std::string payer = FundedWallet(kOp, "13800000001", 100'000);
  const std::string payee = FundedWallet(kOp, "13800000002", 0);
  const std::filesystem::path wal = dir_ / "operator_boc.wal";
  const std::filesystem::path saved = dir_ / "operator_boc.wal.before";
  std::filesystem::copy_file(wal, saved);
  const std::string id =
      Must(Book().Create(Escrow(payer, payee, 40'000).dump(), "deal")).contract.contract_id;
  network_.reset();
  std::filesystem::copy_file(saved, wal, std::filesystem::copy_options::overwrite_existing);
  Open();
  EXPECT_EQ(Book().Get(id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Balance(payer), 100'000);
  EXPECT_EQ(ExpectAudited().escrows_fen, 0);
  // The key's first outcome is now that failure.
  EXPECT_EQ(Book().Create(Escrow(payer, payee, 40'000).dump(), "deal").status().code(),
            ErrorCode::kInternal);
}

}  // namespace
}  // namespace tapstack::dcep
