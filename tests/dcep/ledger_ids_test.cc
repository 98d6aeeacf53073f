// Id derivation: deterministic per key, separated by purpose and role key, never a refused id.
#include "dcep/ledger_ids.h"

#include <gtest/gtest.h>

namespace tapstack::dcep {
namespace {

TEST(IdDeriverTest, SameInputsSameIdOtherwiseDifferent) {
  auto ids = IdDeriver::Create(DemoDcepIdKey("operator_icbc"));
  ASSERT_TRUE(ids.ok());
  const ledger::Id128 a = *ids->Derive("pay", "w0123456789abcdef", "key-1");
  EXPECT_EQ(a, *ids->Derive("pay", "w0123456789abcdef", "key-1"));
  EXPECT_NE(a, *ids->Derive("pay", "w0123456789abcdef", "key-2"));
  EXPECT_NE(a, *ids->Derive("exchange_in", "w0123456789abcdef", "key-1"));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_NE(*ids->Derive("p", "ab", "c"), *ids->Derive("p", "a", "bc"));
  auto other = IdDeriver::Create(DemoDcepIdKey("operator_ccb"));
  EXPECT_NE(a, *other->Derive("pay", "w0123456789abcdef", "key-1"));
  EXPECT_FALSE(a.is_zero());
  EXPECT_FALSE(a.is_max());
}

TEST(IdDeriverTest, RefusesShortKeys) {
  EXPECT_EQ(IdDeriver::Create(crypto::SecretBytes(Bytes(15, 1))).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(LedgerIdsTest, BytesRoundTripInNumericOrder) {
  const ledger::Id128 id{0x0102030405060708, 0x1112131415161718};
  const Bytes bytes = IdToBytes(id);
  EXPECT_EQ(bytes[0], 0x11);
  EXPECT_EQ(bytes[15], 0x08);
  EXPECT_EQ(*IdFromBytes(bytes), id);
  EXPECT_EQ(IdFromBytes(Bytes(15)).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(kEcnyLedgerId, 0x0E156u);
  EXPECT_EQ(kCnyReserveLedgerId, 156u);
}

}  // namespace
}  // namespace tapstack::dcep
