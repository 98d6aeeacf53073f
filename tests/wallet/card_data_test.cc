// Card data at rest: after adding cards (approved, step-up, declined, replayed), no file of the
// SQLite data directory holds a PAN or the add-card JSON, and no table cell holds a CVV2.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

constexpr const char* kDistinctCvv2 = "739";

class CardDataTest : public WalletHttpTest {};

TEST_P(CardDataTest, NoPanOrCvv2InAnyFileOfTheDataDir) {
  if (GetParam() != store::Dialect::kSqlite) GTEST_SKIP() << "the data directory is SQLite's";
  std::string session = SignUpAndIn(kPhoneA);
  ASSERT_EQ(RegisterDevice(session, "phone-1").status, 201);
  tsp_.StepUp(DemoBankPan(2));
  tsp_.Decline(DemoBankPan(3), "issuer_declined");
  std::vector<std::string> pans = {DemoBankPan(1), DemoBankPan(2), DemoBankPan(3), kVisaTestPan};
  int k = 0;
  for (const std::string& pan : pans) {
    json body = CardBody("phone-1", pan);
    body["cvv2"] = kDistinctCvv2;
    std::string key = "k" + std::to_string(k++);
    HttpAnswer a = Call("POST", "/v1/cards", body, session, key);
    ASSERT_TRUE(a.status == 201 || a.status == 202 || a.status == 422) << a.body.dump();
    EXPECT_EQ(Call("POST", "/v1/cards", body, session, key).status, a.status);  // replay
  }
  EXPECT_EQ(tsp_.seen_pans(), pans);  // the PANs did reach the TSP

  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_->path())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& pan : pans) {
      EXPECT_EQ(bytes.find(pan), std::string::npos) << entry.path();
      EXPECT_EQ(bytes.find(pan.substr(0, 12)), std::string::npos)
          << "unmasked digits in " << entry.path();
    }
    EXPECT_EQ(bytes.find("cvv2"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("\"pan\""), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 0u);

  // No text cell of any wallet table is the CVV2 or contains a PAN.
  auto tables = store_->Query("SELECT name FROM sqlite_master WHERE type = 'table'");
  ASSERT_TRUE(tables.ok());
  for (const store::Row& t : *tables) {
    std::string name = *t.GetText(0);
    auto rows = store_->Query("SELECT * FROM " + name);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    for (const store::Row& row : *rows) {
      for (const store::Value& v : row.values()) {
        if (v.type() != store::Value::Type::kText) continue;
        EXPECT_NE(v.text(), kDistinctCvv2) << name;
        for (const std::string& pan : pans)
          EXPECT_EQ(v.text().find(pan), std::string::npos) << name;
      }
    }
  }
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(CardDataTest);

}  // namespace
}  // namespace tapstack::wallet::testing
