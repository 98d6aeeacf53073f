#include "network/reconciliation_totals.h"

#include <gtest/gtest.h>

#include "iso8583/codec.h"
#include "iso8583/profile.h"

namespace tapstack::network {
namespace {

ReconciliationTotals Sample() {
  ReconciliationTotals t;
  t.debits = 12;
  t.debits_minor = 1'234'567;
  t.debit_reversals = 2;
  t.debit_reversals_minor = 4'567;
  t.credits = 1;
  t.credits_minor = 30'000;
  return t;
}

TEST(ReconciliationTotalsTest, WritesTheIso8583FieldsAndReadsThemBack) {
  iso8583::Message m("0500");
  ASSERT_TRUE(Sample().WriteTo(m).ok());
  EXPECT_EQ(*m.Get(74), "0000000001");
  EXPECT_EQ(*m.Get(75), "0000000000");
  EXPECT_EQ(*m.Get(76), "0000000012");
  EXPECT_EQ(*m.Get(77), "0000000002");
  EXPECT_EQ(*m.Get(86), "0000000000030000");
  EXPECT_EQ(*m.Get(87), "0000000000000000");
  EXPECT_EQ(*m.Get(88), "0000000001234567");
  EXPECT_EQ(*m.Get(89), "0000000000004567");
  // (1,234,567 - 4,567) - 30,000 = 1,200,000, owed to the acquirer.
  EXPECT_EQ(*m.Get(97), "C0000000001200000");
  // The codec's field specs accept them (n10, n16, x+n16) and the round trip is exact.
  std::string wire;
  ASSERT_TRUE(iso8583::Pack(m, iso8583::AsciiProfile(), wire).ok());
  iso8583::Message back;
  ASSERT_TRUE(iso8583::Unpack(AsBytes(wire), iso8583::AsciiProfile(), back).ok());
  auto read = ReconciliationTotals::ReadFrom(back);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, Sample());
}

TEST(ReconciliationTotalsTest, NegativeNetIsADebit) {
  ReconciliationTotals t;
  t.credits = 1;
  t.credits_minor = 500;
  EXPECT_EQ(t.NetMinor(), -500);
  EXPECT_EQ(t.NetField(), "D0000000000000500");
  EXPECT_EQ(ReconciliationTotals{}.NetField(), "C0000000000000000");
}

TEST(ReconciliationTotalsTest, CreditReversalsGiveBackWhatCreditsTook) {
  // A sale of 100.00, two refunds of 30.00 and 10.00, the second reversed: net 70.00 to the
  // acquirer, and the refunds stay in DE74/DE86 rather than shrinking the debits.
  ReconciliationTotals t;
  t.debits = 1;
  t.debits_minor = 10'000;
  t.credits = 2;
  t.credits_minor = 4'000;
  t.credit_reversals = 1;
  t.credit_reversals_minor = 1'000;
  EXPECT_EQ(t.NetMinor(), 7'000);
  iso8583::Message m("0500");
  ASSERT_TRUE(t.WriteTo(m).ok());
  EXPECT_EQ(*m.Get(74), "0000000002");
  EXPECT_EQ(*m.Get(75), "0000000001");
  EXPECT_EQ(*m.Get(86), "0000000000004000");
  EXPECT_EQ(*m.Get(87), "0000000000001000");
  EXPECT_EQ(*m.Get(88), "0000000000010000");
  EXPECT_EQ(*m.Get(97), "C0000000000007000");
  auto read = ReconciliationTotals::ReadFrom(m);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, t);
  // The same net with the refund counted as a smaller sale is another batch.
  ReconciliationTotals as_smaller_sale;
  as_smaller_sale.debits = 1;
  as_smaller_sale.debits_minor = 7'000;
  EXPECT_EQ(as_smaller_sale.NetMinor(), t.NetMinor());
  EXPECT_NE(as_smaller_sale, t);
}

TEST(ReconciliationTotalsTest, ArithmeticIsFieldByField) {
  ReconciliationTotals t = Sample();
  t += Sample();
  EXPECT_EQ(t.debits, 24);
  EXPECT_EQ(t.debit_reversals_minor, 9'134);
  t -= Sample();
  EXPECT_EQ(t, Sample());
}

TEST(ReconciliationTotalsTest, ErrorsNameTheFieldAndFitDe44) {
  iso8583::Message m("0500");
  ASSERT_TRUE(Sample().WriteTo(m).ok());
  iso8583::Message missing = m;
  missing.Clear(88);
  EXPECT_EQ(ReconciliationTotals::ReadFrom(missing).status().message(), "DE88 missing");
  iso8583::Message letters = m;
  letters.Set(75, "00000000x0");
  EXPECT_EQ(ReconciliationTotals::ReadFrom(letters).status().message(), "DE75: expected 10 digits");
  iso8583::Message sign = m;
  sign.Set(97, "X0000000001200000");
  EXPECT_EQ(ReconciliationTotals::ReadFrom(sign).status().message(), "DE97: expected C/D+n16");
  iso8583::Message wrong = m;
  wrong.Set(97, "D0000000001200000");
  EXPECT_EQ(ReconciliationTotals::ReadFrom(wrong).status().message(), "DE97 != net of DE86-DE89");
  for (const auto* s : {"DE88 missing", "DE75: expected 10 digits", "DE97: expected C/D+n16",
                        "DE97 != net of DE86-DE89"}) {
    EXPECT_LE(std::string_view(s).size(), 25u) << s;
  }
  // Writing refuses what the fields cannot carry, and leaves the message alone.
  ReconciliationTotals negative;
  negative.debits = -1;
  iso8583::Message untouched("0500");
  EXPECT_FALSE(negative.WriteTo(untouched).ok());
  EXPECT_FALSE(untouched.Has(76));
  ReconciliationTotals too_many;
  too_many.debits = kReconciliationCountMax + 1;
  EXPECT_FALSE(too_many.WriteTo(untouched).ok());
}

}  // namespace
}  // namespace tapstack::network
