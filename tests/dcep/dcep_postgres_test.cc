// The e-CNY network's stores on both databases: SQLite always, PostgreSQL when
// TAPSTACK_TEST_PG_URL is set (a database of each test's own; skipped with a message otherwise).
// Every store a DcepNetwork opens — operator ("dcep_<id>"), certificate authorities
// ("dcep_ca_<id>", "dcep_ca_pboc") and offline settlement ("dcep_offline_<id>") — is driven
// through issuance, payments, a contract and offline value, reopened and audited. Ledgers are
// files on both.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "dcep/contract_book.h"
#include "dcep/operator_store.h"
#include "dcep_test_util.h"
#include "offline_test_util.h"
#include "store/migration.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "watch_test_util.h"

namespace tapstack::dcep {
namespace {

using nlohmann::json;
using testing::Must;
using testing::TestDevice;
using testing::Watch;

constexpr std::int64_t kDayMillis = 24 * testing::kHourMillis;
constexpr char kSchool[] = "m-chengdu-school";  // seed: a merchant of boc

// Every role a network of icbc, ccb and boc keeps its stores under.
std::vector<std::string> NetworkRoles() {
  std::vector<std::string> roles = {"dcep_ca_pboc"};
  for (const char* id : {"icbc", "ccb", "boc"}) {
    roles.push_back(std::string("dcep_") + id);
    roles.push_back(std::string("dcep_ca_") + id);
    roles.push_back(std::string("dcep_offline_") + id);
  }
  return roles;
}

class DcepNetworkDbTest : public testing::DcepDbTest {
 protected:
  void SetUp() override {
    DcepDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    OpenNetwork();
  }

  // Another connection to `role`'s store of this test (the file is created when missing).
  std::unique_ptr<store::Store> OpenRole(const std::string& role) {
    auto opened = postgres_url().empty() ? store::OpenSqlite(dir_, role)
                                         : store::OpenPostgres(postgres_url(), role);
    return Must(std::move(opened), role.c_str());
  }

  std::int64_t Balance(std::string_view op, const std::string& wallet) {
    return Must(Op(op).Wallet(wallet)).balance_fen;
  }

  Result<Entry> Pay(const std::string& from, std::string_view payee_operator,
                    const std::string& to, std::int64_t amount, const std::string& key) {
    PaymentOrder order;
    order.payer_wallet = from;
    order.payee_operator = std::string(payee_operator);
    order.payee_wallet = to;
    order.amount_fen = amount;
    order.idempotency_key = key;
    return Op("icbc").Pay(order);
  }

  HardwareWallets& Wallets() { return *Must(network_->hardware_wallets("icbc")); }

  Watch NewWatch(const std::string& id, const std::string& wallet,
                 const std::filesystem::path& where = {}) {
    return testing::OpenWatch(where.empty() ? dir_ / "watches" : where, id, "icbc", Wallets(),
                              wallet, network_->root_authority());
  }

  UploadResult Upload(Watch& w) { return testing::UploadWatch(Wallets(), w); }

  std::int64_t Purse(const std::string& device) {
    return Must(Op("icbc").OfflinePurseBalance(device));
  }
};

TEST_P(DcepNetworkDbTest, EveryStoreOfTheNetworkIsInTheChosenDatabase) {
  std::vector<std::string> sqlite_files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".db") sqlite_files.push_back(entry.path().stem().string());
  }
  if (GetParam() == store::Dialect::kPostgres) {
    EXPECT_TRUE(sqlite_files.empty()) << "a store stayed on SQLite: " << sqlite_files.front();
  } else {
    EXPECT_EQ(sqlite_files.size(), NetworkRoles().size());
  }
  // Each role's schema is there and migrated (opening a missing one would find version 0).
  for (const std::string& role : NetworkRoles()) {
    std::unique_ptr<store::Store> store = OpenRole(role);
    EXPECT_EQ(store->dialect(), GetParam()) << role;
    EXPECT_GT(Must(store::SchemaVersion(*store)), 0) << role;
  }
  // What the operator wrote is in its store there.
  const std::string wallet = FundedWallet("icbc", "13800000001", 1'000);
  std::unique_ptr<store::Store> icbc = OpenRole("dcep_icbc");
  const store::Row row = Must(icbc->QueryRow("SELECT tier FROM dcep_wallets WHERE wallet_id = ?",
                                             {store::Value::Text(wallet)}));
  EXPECT_EQ(Must(row.GetInt64("tier")), 4);
}

TEST_P(DcepNetworkDbTest, PaymentsWithinAndAcrossOperatorsSurviveReopenAndBalance) {
  const std::int64_t merchant_wallets = Must(Op("icbc").Audit()).wallets;  // of the seed config
  const std::string alice = FundedWallet("icbc", "13800000001", 100'000);
  const std::string bob = FundedWallet("icbc", "13800000002", 0);
  const std::string carol = FundedWallet("ccb", "13900000001", 0);

  const Entry local = Must(Pay(alice, "", bob, 10'000, "pay-1"));
  EXPECT_EQ(local.kind, "payment");
  EXPECT_EQ(local.status, "posted");
  const Entry across = Must(Pay(alice, "ccb", carol, 20'000, "pay-2"));
  EXPECT_EQ(across.kind, "interbank_out");
  EXPECT_EQ(across.status, "posted");
  const Entry out = Must(Op("icbc").Exchange(bob, 4'000, /*to_deposit=*/true, "redeem-1"));
  EXPECT_EQ(out.kind, "exchange_out");
  EXPECT_EQ(Balance("icbc", alice), 70'000);
  EXPECT_EQ(Balance("icbc", bob), 6'000);
  EXPECT_EQ(Balance("ccb", carol), 20'000);
  ExpectNetworkBalanced();

  // Both operators restart: balances, journal and idempotency records come back from the store.
  ASSERT_OK(network_->ReopenOperator("icbc"));
  ASSERT_OK(network_->ReopenOperator("ccb"));
  EXPECT_EQ(Balance("icbc", alice), 70'000);
  EXPECT_EQ(Balance("ccb", carol), 20'000);
  const Entry again = Must(Pay(alice, "ccb", carol, 20'000, "pay-2"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.entry_id, across.entry_id);
  EXPECT_EQ(Pay(alice, "", bob, 1, "pay-1").status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Balance("ccb", carol), 20'000);  // nothing moved twice
  const HistoryPage history = Must(Op("icbc").History(alice, 0, 10));
  ASSERT_EQ(history.entries.size(), 3u);  // newest first
  EXPECT_EQ(history.entries[0].kind, "interbank_out");
  EXPECT_EQ(history.entries[1].kind, "payment");
  EXPECT_EQ(history.entries[2].kind, "exchange_in");
  const HistoryPage older = Must(Op("icbc").History(alice, history.entries[0].seq, 1));
  ASSERT_EQ(older.entries.size(), 1u);  // the page limit is a bound parameter
  EXPECT_EQ(older.entries[0].entry_id, local.entry_id);

  const NetworkAudit audit = Must(network_->AuditNetwork());
  EXPECT_EQ(audit.operators.at("icbc").wallets_fen, 70'000 + 6'000);
  EXPECT_EQ(audit.operators.at("ccb").wallets_fen, 20'000);
  EXPECT_EQ(audit.operators.at("icbc").wallets, merchant_wallets + 2);

  // The whole network restarts on the same stores: the root authority keeps its key.
  const Bytes root_certificate = network_->root_authority().certificate().encoded;
  ASSERT_OK(network_->Close());
  network_.reset();
  OpenNetwork();
  EXPECT_EQ(network_->root_authority().certificate().encoded, root_certificate);
  EXPECT_EQ(Balance("icbc", alice), 70'000);
  EXPECT_EQ(Balance("ccb", carol), 20'000);
  ExpectNetworkBalanced();
}

TEST_P(DcepNetworkDbTest, ContractsLockReleaseExpireAndSurviveReopen) {
  const std::string parent = FundedWallet("boc", "13800000001", 100'000, /*real_name=*/true);
  const std::string payee = FundedWallet("boc", "13800000002", 0);
  const std::string school = MerchantWalletId("boc", kSchool);
  ContractBook* book = &Op("boc").contracts();
  const json prepaid = {{"template", "prepaid_service"}, {"payer_wallet", parent},
                        {"merchant_id", kSchool},        {"amount_fen", 30'000},
                        {"units", 3},                    {"unit_name", "lesson"},
                        {"expires_unix_ms", clock_.NowUnixMillis() + 90 * kDayMillis}};
  const std::string id = Must(book->Create(prepaid.dump(), "pkg-1")).contract.contract_id;
  EXPECT_EQ(Must(book->Deliver(id, school, 1, "lesson-1")).entry.amount_fen, 10'000);

  ASSERT_OK(network_->ReopenOperator("boc"));
  book = &Op("boc").contracts();
  const Contract reopened = Must(book->Get(id));
  EXPECT_EQ(reopened.state, "active");
  EXPECT_EQ(reopened.progress.units_delivered, 1);
  EXPECT_EQ(reopened.locked_fen, 20'000);
  ASSERT_EQ(reopened.events.size(), 2u);
  EXPECT_TRUE(Must(book->Deliver(id, school, 1, "lesson-1")).replayed);  // the key survived
  const ContractOutcome cancelled = Must(book->Cancel(id, parent, "stop"));
  EXPECT_EQ(cancelled.entry.amount_fen, 20'000);
  EXPECT_EQ(cancelled.contract.state, "closed");

  // An escrow left unconfirmed past its expiry goes back to the payer.
  const json escrow = {{"template", "escrow"},
                       {"payer_wallet", parent},
                       {"payee_wallet", payee},
                       {"amount_fen", 5'000},
                       {"expires_unix_ms", clock_.NowUnixMillis() + 7 * kDayMillis}};
  const std::string escrow_id = Must(book->Create(escrow.dump(), "escrow-1")).contract.contract_id;
  EXPECT_EQ(Must(Op("boc").Audit()).escrows_fen, 5'000);
  clock_.AdvanceMillis(8 * kDayMillis);
  EXPECT_EQ(Must(book->ExpireContracts()), 1);
  EXPECT_EQ(Must(book->Get(escrow_id)).state, "closed");
  EXPECT_EQ(Balance("boc", parent), 100'000 - 10'000);
  EXPECT_EQ(Balance("boc", school), 10'000);
  EXPECT_EQ(Must(Op("boc").Audit()).escrows_fen, 0);
  ExpectNetworkBalanced();
}

TEST_P(DcepNetworkDbTest, OfflineValueSettlesOnceAndADoubleSpendRevokesTheDevice) {
  const std::string alice = FundedWallet("icbc", "+8613800000001", 100'000, true);
  const std::string bob = FundedWallet("icbc", "+8613800000002", 0);
  const std::string carol = FundedWallet("icbc", "+8613800000003", 0);
  Watch a = NewWatch("watch-a", alice);
  Watch b = NewWatch("watch-b", bob);
  Watch c = NewWatch("watch-c", carol);
  const Bytes order = Must(Wallets().Load(alice, "watch-a", 30'000, "load-1"));
  EXPECT_EQ(Must(Wallets().Load(alice, "watch-a", 30'000, "load-1")), order);  // a retry
  ASSERT_TRUE(a.app->Load(order).ok());
  EXPECT_EQ(Balance("icbc", alice), 70'000);

  ASSERT_TRUE(device::PayOffline(*a.field, *b.field, 10'000).ok());
  const UploadResult payee = Upload(b);
  ASSERT_EQ(payee.records.size(), 1u);
  EXPECT_EQ(payee.records[0].outcome, RecordOutcome::kSettled) << payee.records[0].reason;
  const UploadResult payer = Upload(a);
  ASSERT_EQ(payer.records.size(), 1u);
  EXPECT_EQ(payer.records[0].outcome, RecordOutcome::kDuplicate);
  EXPECT_EQ(Purse("watch-a"), 20'000);
  EXPECT_EQ(Purse("watch-b"), 10'000);

  // A clone of watch-a's secure element spends the 20,000 left in it a second time.
  a.se.reset();
  std::filesystem::create_directories(dir_ / "clone");
  std::filesystem::copy(dir_ / "watches" / "watch-a", dir_ / "clone" / "watch-a",
                        std::filesystem::copy_options::recursive);
  Watch genuine = NewWatch("watch-a", "");
  Watch clone = NewWatch("watch-a", "", dir_ / "clone");
  ASSERT_TRUE(device::PayOffline(*genuine.field, *b.field, 20'000).ok());
  ASSERT_TRUE(device::PayOffline(*clone.field, *c.field, 20'000).ok());
  EXPECT_EQ(Upload(b).records[0].outcome, RecordOutcome::kSettled);
  EXPECT_EQ(Upload(c).records[0].outcome, RecordOutcome::kDoubleSpend);
  EXPECT_TRUE(Must(Wallets().authority().IsRevoked("watch-a")));
  EXPECT_EQ(Purse("watch-c"), 0);  // the loss waits for float…
  ExpectNetworkBalanced();

  // …across a restart of the operator (and with it its authority and settlement).
  ASSERT_OK(network_->ReopenOperator("icbc"));
  EXPECT_TRUE(Must(Wallets().authority().IsRevoked("watch-a")));
  EXPECT_EQ(Purse("watch-a"), 0);
  EXPECT_EQ(Purse("watch-b"), 30'000);
  EnsureFloat("icbc", 50'000);
  Must(Wallets().settlement().RetryPending());
  EXPECT_EQ(Purse("watch-c"), 20'000);
  EXPECT_EQ(Must(Op("icbc").Audit()).float_fen, 30'000);
  // The settled records are remembered: the payee's log uploaded again moves nothing.
  const Bytes log = Must(b.app->ReadLog());
  for (const UploadedRecord& record : Must(Wallets().Upload("watch-b", log)).records) {
    EXPECT_EQ(record.outcome, RecordOutcome::kDuplicate);
  }
  EXPECT_EQ(Purse("watch-b"), 30'000);
  ExpectNetworkBalanced();
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(DcepNetworkDbTest);

// Each store's migrations: the second open (every restart) applies nothing and loses nothing.
class DcepStoreMigrationsDbTest : public testing::OfflineDbTest {
 protected:
  std::unique_ptr<store::Store> OpenRole(const std::string& role) {
    auto opened = postgres_url().empty() ? store::OpenSqlite(dir_, role)
                                         : store::OpenPostgres(postgres_url(), role);
    return testing::MustOk(std::move(opened), role.c_str());
  }
  std::int64_t MigrationRows(const std::string& role) {
    std::unique_ptr<store::Store> store = OpenRole(role);
    const store::Row row = testing::MustOk(
        store->QueryRow("SELECT count(*) AS n FROM schema_migrations"), "count migrations");
    return testing::MustOk(row.GetInt64("n"), "n");
  }
};

TEST_P(DcepStoreMigrationsDbTest, OperatorStoreMigratesOnce) {
  const std::int64_t newest = OperatorMigrations().back().version;
  {
    auto first = testing::MustOk(OpenOperatorStore("icbc", dir_, postgres_url()), "first open");
    EXPECT_EQ(first->dialect(), GetParam());
    EXPECT_EQ(testing::MustOk(store::SchemaVersion(*first)), newest);
    OFFLINE_ASSERT_OK(first->Execute(
        "INSERT INTO dcep_requests (request_id, request_digest, outcome, created_unix_ms) "
        "VALUES (?, ?, ?, ?)",
        {store::Value::Blob(Bytes{1}), store::Value::Blob(Bytes{2}), store::Value::Text("w1"),
         store::Value::Int64(1)}).status());
    OFFLINE_ASSERT_OK(store::ApplyMigrations(*first, OperatorMigrations()));
  }
  auto second = testing::MustOk(OpenOperatorStore("icbc", dir_, postgres_url()), "second open");
  EXPECT_EQ(testing::MustOk(store::SchemaVersion(*second)), newest);
  EXPECT_EQ(MigrationRows("dcep_icbc"), static_cast<std::int64_t>(OperatorMigrations().size()));
  const store::Rows kept =
      testing::MustOk(second->Query("SELECT outcome FROM dcep_requests"), "requests");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(testing::MustOk(kept[0].GetText("outcome")), "w1");
}

// Migration 5 re-keys the journal by seq and links each row to its wallets' previous rows.
TEST_P(DcepStoreMigrationsDbTest, OperatorJournalGainsItsWalletChainsAtVersion5) {
  std::unique_ptr<store::Store> store = OpenRole("dcep_icbc");
  OFFLINE_ASSERT_OK(store::ApplyMigrations(*store, OperatorMigrations().first(4)));
  // (seq, debit wallet, credit wallet); seq 4 moves value between two purses of w1.
  const std::vector<std::tuple<std::int64_t, const char*, const char*>> rows = {
      {1, nullptr, "w1"}, {2, "w1", "w2"}, {3, "w3", "w2"}, {4, "w1", "w1"}, {5, "w2", "w1"}};
  auto text = [](const char* s) { return s ? store::Value::Text(s) : store::Value::Null(); };
  for (const auto& [seq, debit, credit] : rows) {
    OFFLINE_ASSERT_OK(store->Execute(
        "INSERT INTO dcep_entries (entry_id, seq, kind, request_digest, debit_wallet, "
        "credit_wallet, amount_fen, day, status, debit_account, credit_account, created_unix_ms) "
        "VALUES (?, ?, 'payment', ?, ?, ?, 1, 20261123, 'posted', ?, ?, 1)",
        {store::Value::Blob(Bytes{static_cast<std::uint8_t>(seq)}), store::Value::Int64(seq),
         store::Value::Blob(Bytes{9}), text(debit), text(credit), store::Value::Blob(Bytes{1}),
         store::Value::Blob(Bytes{2})}).status());
  }
  OFFLINE_ASSERT_OK(store::ApplyMigrations(*store, OperatorMigrations()));
  const store::Rows linked = testing::MustOk(
      store->Query("SELECT seq, entry_id, debit_prev_seq, credit_prev_seq FROM dcep_entries "
                   "ORDER BY seq"),
      "linked rows");
  const std::vector<std::array<std::int64_t, 3>> expected = {
      {1, 0, 0}, {2, 1, 0}, {3, 0, 2}, {4, 2, 2}, {5, 3, 4}};
  ASSERT_EQ(linked.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(testing::MustOk(linked[i].GetInt64(0)), expected[i][0]);
    EXPECT_EQ(testing::MustOk(linked[i].GetBlob(1)),
              Bytes{static_cast<std::uint8_t>(expected[i][0])});
    EXPECT_EQ(testing::MustOk(linked[i].GetInt64(2)), expected[i][1]) << "seq " << i + 1;
    EXPECT_EQ(testing::MustOk(linked[i].GetInt64(3)), expected[i][2]) << "seq " << i + 1;
  }
  // seq is the key now: a second row at seq 5 is refused.
  EXPECT_FALSE(store->Execute("INSERT INTO dcep_entries (entry_id, seq, kind, request_digest, "
                              "amount_fen, day, status, debit_account, credit_account, "
                              "created_unix_ms) VALUES (?, 5, 'payment', ?, 1, 1, 'posted', ?, "
                              "?, 1)",
                              {store::Value::Blob(Bytes{7}), store::Value::Blob(Bytes{9}),
                               store::Value::Blob(Bytes{1}), store::Value::Blob(Bytes{2})})
                   .ok());
}

TEST_P(DcepStoreMigrationsDbTest, AuthorityAndSettlementStoresMigrateOnceAndKeepTheirKeys) {
  // The fixture opened the root "pboc" and the operator CA "icbc" once already.
  const std::int64_t root_rows = MigrationRows("dcep_ca_pboc");
  const std::int64_t operator_rows = MigrationRows("dcep_ca_icbc");
  EXPECT_GT(root_rows, 0);
  EXPECT_GT(operator_rows, 0);
  const Bytes root_certificate = root_->certificate().encoded;
  const Bytes operator_key = operator_ca_->public_key_raw();
  TestDevice device = NewDevice("watch-1");
  OpenAuthorities();  // closes both and opens them again on the same stores
  EXPECT_EQ(root_->certificate().encoded, root_certificate);
  EXPECT_EQ(operator_ca_->public_key_raw(), operator_key);
  EXPECT_EQ(testing::MustOk(operator_ca_->DeviceChain("watch-1")), device.chain);
  EXPECT_EQ(MigrationRows("dcep_ca_pboc"), root_rows);
  EXPECT_EQ(MigrationRows("dcep_ca_icbc"), operator_rows);

  NewDevice("watch-2");  // the payee: certified by icbc, so settlement knows its operator
  testing::FakePurses purses("icbc");
  purses.Fund("watch-1", 5'000);
  const Bytes transfer = testing::SignTransfer(device, "watch-2", 1'000);
  const Bytes log =
      testing::LogOf(device, dcep_wire::LogDirection::kSent, transfer, device.chain);
  std::int64_t settlement_rows = 0;
  for (int open = 0; open < 2; ++open) {
    OfflineSettlementOptions options;
    options.operator_id = "icbc";
    options.data_dir = dir_;
    options.postgres_url = postgres_url();
    options.authority = operator_ca_.get();
    options.purses = &purses;
    options.clock = &clock_;
    auto settlement = testing::MustOk(OfflineSettlement::Open(std::move(options)), "settlement");
    const UploadResult up = testing::MustOk(settlement->Upload("watch-1", log), "upload");
    ASSERT_EQ(up.records.size(), 1u);
    if (open == 0) {
      settlement_rows = MigrationRows("dcep_offline_icbc");
      EXPECT_GT(settlement_rows, 0);
      EXPECT_EQ(up.records[0].outcome, RecordOutcome::kSettled) << up.records[0].reason;
    } else {
      EXPECT_EQ(MigrationRows("dcep_offline_icbc"), settlement_rows);
      // The first open's settlement is remembered: the same upload moves nothing again.
      EXPECT_EQ(up.records[0].outcome, RecordOutcome::kDuplicate) << up.records[0].reason;
      EXPECT_EQ(testing::MustOk(settlement->Device("watch-1")).log_sequence_acknowledged, 1u);
    }
  }
  EXPECT_EQ(purses.moves(), 1);
  EXPECT_EQ(purses.Balance("watch-1"), 4'000);
  EXPECT_EQ(purses.Balance("watch-2"), 1'000);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(DcepStoreMigrationsDbTest);

}  // namespace
}  // namespace tapstack::dcep
