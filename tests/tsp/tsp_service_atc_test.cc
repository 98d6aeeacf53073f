// TspService and the ATC table's move into the TSP's main store (TspMigrations version 4): the
// rows of a legacy separate "tsp_atc" store are merged in at Open, so no ATC seen before the
// upgrade can be replayed after it, and the legacy store is emptied.
#include <gtest/gtest.h>

#include "provisioning_test_support.h"
#include "tsp/tsp_service.h"

namespace tapstack::tsp {
namespace {

class TspServiceAtcTest : public testing::TspServiceTest {
 protected:
  AtcState Row(store::Store& s, const std::string& token_id) {
    auto row = s.QueryRow("SELECT highest_atc, seen_window FROM tsp_token_atc WHERE token_id = ?",
                          {token_id});
    if (!row.ok()) return {};
    return AtcState{static_cast<std::uint32_t>(*row->GetInt64("highest_atc")),
                    static_cast<std::uint64_t>(*row->GetInt64("seen_window"))};
  }
  void Put(store::Store& s, const std::string& token_id, std::int64_t highest,
           std::int64_t window) {
    TS_ASSERT_OK(s.Execute(
        "INSERT INTO tsp_token_atc (token_id, highest_atc, seen_window, uses, updated_unix_ms) "
        "VALUES (?, ?, ?, 1, 0)",
        {token_id, highest, window}));
  }
};

TEST_F(TspServiceAtcTest, LegacyAtcRowsAreMergedIntoTheMainStoreAtOpen) {
  // As an older version left them: x in both stores (the main one behind, as after a
  // downgrade and upgrade), y only in the legacy store.
  Put(*atc_store_, "tok_x", 10, 0b1);  // 10 and 9 seen
  Put(*store_, "tok_x", 8, 0);         // 8 seen
  Put(*atc_store_, "tok_y", 3, 0b11);  // 3, 2, 1 seen
  ASSERT_NO_FATAL_FAILURE(OpenService());

  const AtcState x = Row(*store_, "tok_x");
  EXPECT_EQ(x.highest, 10u);
  EXPECT_EQ(x.window, 0b11u);  // 9 (bit 0) and 8 (bit 1): every ATC either store saw
  EXPECT_FALSE(AdvanceAtcWindow(x, 8).ok());
  EXPECT_FALSE(AdvanceAtcWindow(x, 9).ok());
  EXPECT_TRUE(AdvanceAtcWindow(x, 7).ok());
  const AtcState y = Row(*store_, "tok_y");
  EXPECT_EQ(y.highest, 3u);
  EXPECT_EQ(y.window, 0b11u);
  auto left = atc_store_->QueryRow("SELECT COUNT(*) AS n FROM tsp_token_atc", {});
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_EQ(*left->GetInt64("n"), 0);

  // Opening again changes nothing (the legacy store is empty now).
  ASSERT_NO_FATAL_FAILURE(OpenService());
  EXPECT_EQ(Row(*store_, "tok_x").window, 0b11u);
}

}  // namespace
}  // namespace tapstack::tsp
