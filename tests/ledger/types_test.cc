#include "ledger/types.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tapstack::ledger {
namespace {

TEST(LedgerTypesTest, IdHexRoundTripAndNumericOrder) {
  const Id128 id{0x0123456789abcdefull, 0xfedcba9876543210ull};
  EXPECT_EQ(id.ToHex(), "fedcba98765432100123456789abcdef");
  auto parsed = Id128::ParseHex("fedcba98765432100123456789abcdef");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  EXPECT_EQ(*Id128::ParseHex("2a"), Id128::FromU64(42));
  EXPECT_FALSE(Id128::ParseHex("").ok());
  EXPECT_FALSE(Id128::ParseHex("xyz").ok());
  EXPECT_FALSE(Id128::ParseHex(std::string(33, '1')).ok());
  // The high half decides the order.
  EXPECT_LT((Id128{~0ull, 0}), (Id128{0, 1}));
  EXPECT_LT(Id128::FromU64(1), Id128::FromU64(2));
  EXPECT_TRUE(Id128{}.is_zero());
  EXPECT_TRUE(Id128::Max().is_max());
}

TEST(LedgerTypesTest, RecordsAre128BytesWithoutPadding) {
  EXPECT_EQ(sizeof(Account), 128u);
  EXPECT_EQ(sizeof(Transfer), 128u);
  EXPECT_TRUE(std::is_trivially_copyable_v<Account>);
  EXPECT_TRUE(std::is_trivially_copyable_v<Transfer>);
  EXPECT_TRUE(std::has_unique_object_representations_v<Account>);
  EXPECT_TRUE(std::has_unique_object_representations_v<Transfer>);
}

TEST(LedgerTypesTest, ResultNamesAreUniqueAndStable) {
  std::set<std::string> names;
  for (std::uint32_t v = 0; v <= 58; ++v) {
    const std::string name(CreateTransferResultName(static_cast<CreateTransferResult>(v)));
    EXPECT_NE(name, "unknown") << v;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(CreateTransferResultName(static_cast<CreateTransferResult>(59)), "unknown");
  EXPECT_EQ(CreateTransferResultName(CreateTransferResult::kExceedsCredits), "exceeds_credits");
  EXPECT_EQ(static_cast<int>(CreateTransferResult::kIdAlreadyFailed), 8);
  names.clear();
  for (std::uint32_t v = 0; v <= 23; ++v) {
    const std::string name(CreateAccountResultName(static_cast<CreateAccountResult>(v)));
    EXPECT_NE(name, "unknown") << v;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(CreateAccountResultName(static_cast<CreateAccountResult>(24)), "unknown");
}

TEST(LedgerTypesTest, TransientFailuresAreTheStateDependentOnes) {
  EXPECT_TRUE(IsTransientFailure(CreateTransferResult::kExceedsCredits));
  EXPECT_TRUE(IsTransientFailure(CreateTransferResult::kExceedsDebits));
  EXPECT_TRUE(IsTransientFailure(CreateTransferResult::kDebitAccountNotFound));
  EXPECT_TRUE(IsTransientFailure(CreateTransferResult::kPendingTransferNotFound));
  EXPECT_TRUE(IsTransientFailure(CreateTransferResult::kOverflowsDebits));
  EXPECT_FALSE(IsTransientFailure(CreateTransferResult::kOk));
  EXPECT_FALSE(IsTransientFailure(CreateTransferResult::kExists));
  EXPECT_FALSE(IsTransientFailure(CreateTransferResult::kLinkedEventFailed));
  EXPECT_FALSE(IsTransientFailure(CreateTransferResult::kAmountMustNotBeZero));
  EXPECT_FALSE(IsTransientFailure(CreateTransferResult::kIdAlreadyFailed));
}

}  // namespace
}  // namespace tapstack::ledger
