#include "server/console_journal.h"

#include <gtest/gtest.h>

namespace tapstack::server {
namespace {

network::JournalEntry Row(std::int64_t id, const std::string& direction, const std::string& peer,
                          const std::string& mti, const std::string& stan, const std::string& de7,
                          const std::string& terminal, const std::string& masked_pan,
                          const std::string& rc = "") {
  network::JournalEntry e;
  e.entry_id = id;
  e.unix_ms = 1'000 * id;
  e.direction = direction;
  e.peer = peer;
  e.mti = mti;
  e.stan = stan;
  e.masked_pan = masked_pan;
  e.response_code = rc;
  std::string fields = "\"4\":\"000000012345\",\"7\":\"" + de7 + "\",\"11\":\"" + stan + "\",\"41\":\"" +
                       terminal + "\",\"49\":\"156\"";
  if (!masked_pan.empty()) fields = "\"2\":\"" + masked_pan + "\"," + fields;
  if (!rc.empty()) fields += ",\"39\":\"" + rc + "\"";
  e.message_json = "{\"mti\":\"" + mti + "\",\"fields\":{" + fields + "}}";
  return e;
}

JournalSearch Search(std::string masked_pan, std::string last4,
                     std::size_t limit = kConsoleTransactionsDefault) {
  JournalSearch s;
  s.masked_pan = std::move(masked_pan);
  s.last4 = std::move(last4);
  s.limit = limit;
  return s;
}

TEST(ConsoleJournalTest, GroupsTheFourLegsOfATransactionNewestFirst) {
  const std::string token = "625000******4321";
  const std::string card = "622202******0015";
  std::vector<network::JournalEntry> rows = {
      // A token payment: the acquirer side has the token, the issuer side the funding card.
      Row(1, "in", "acquirer", "0200", "000101", "1122334455", "T0000001", token),
      Row(2, "out", "48020000", "0200", "000101", "1122334455", "T0000001", card),
      Row(3, "in", "48020000", "0210", "000101", "1122334455", "T0000001", card, "00"),
      Row(4, "out", "acquirer", "0210", "000101", "1122334455", "T0000001", token, "00"),
      // The same STAN from another terminal is another transaction.
      Row(5, "in", "acquirer", "0100", "000101", "1122334456", "T0000002", card),
      Row(6, "out", "acquirer", "0110", "000101", "1122334456", "T0000002", card, "91"),
      // No STAN: not a transaction.
      Row(7, "in", "acquirer", "0800", "", "1122334457", "", ""),
  };
  std::vector<JournalTransaction> txns = GroupJournal({rows.rbegin(), rows.rend()});
  ASSERT_EQ(txns.size(), 2u);
  EXPECT_EQ(txns[0].terminal_id, "T0000002");  // newest first
  EXPECT_EQ(txns[0].response_code, "91");
  EXPECT_EQ(txns[0].mti, "0100");
  const JournalTransaction& t = txns[1];
  EXPECT_EQ(t.stan, "000101");
  EXPECT_EQ(t.transmission_time, "1122334455");
  EXPECT_EQ(t.masked_pan, token);  // the acquirer side's number
  EXPECT_EQ(t.mti, "0200");
  EXPECT_EQ(t.response_code, "00");
  EXPECT_EQ(t.amount_minor, "000000012345");
  EXPECT_EQ(t.currency, "156");
  EXPECT_EQ(t.first_unix_ms, 1'000);
  EXPECT_EQ(t.last_unix_ms, 4'000);
  ASSERT_EQ(t.messages.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(t.messages[i].entry_id, static_cast<std::int64_t>(i + 1));
}

TEST(ConsoleJournalTest, SearchTakesAMaskedNumberOrLastFourOnly) {
  EXPECT_TRUE(ValidateJournalSearch(Search("622202******0015", "")).ok());
  EXPECT_TRUE(ValidateJournalSearch(Search("622202*********0015", "")).ok());  // 19 digits
  EXPECT_TRUE(ValidateJournalSearch(Search("622202**0015", "")).ok());         // 12 digits
  EXPECT_TRUE(ValidateJournalSearch(Search("", "0015", kConsoleTransactionsMax)).ok());

  auto field = [](const JournalSearch& s) {
    const Status st = ValidateJournalSearch(s);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
    return st.message().substr(0, st.message().find(':'));
  };
  EXPECT_EQ(field(Search("", "")), "masked_pan");                      // neither
  EXPECT_EQ(field(Search("622202******0015", "0015")), "masked_pan");  // both
  EXPECT_EQ(field(Search("6222020000000015", "")), "masked_pan");  // a full card number
  EXPECT_EQ(field(Search("622202*0015", "")), "masked_pan");       // too short
  EXPECT_EQ(field(Search("622202**********0015", "")), "masked_pan");  // too long
  EXPECT_EQ(field(Search("6222*2******0015", "")), "masked_pan");
  EXPECT_EQ(field(Search("", "15")), "last4");
  EXPECT_EQ(field(Search("", "00a5")), "last4");
  EXPECT_EQ(field(Search("", "%015")), "last4");
  EXPECT_EQ(field(Search("", "0015", 0)), "limit");
  EXPECT_EQ(field(Search("", "0015", kConsoleTransactionsMax + 1)), "limit");
}

}  // namespace
}  // namespace tapstack::server
