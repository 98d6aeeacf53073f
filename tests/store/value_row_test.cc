#include <gtest/gtest.h>

#include <optional>

#include "store/row.h"
#include "store/value.h"

namespace tapstack::store {
namespace {

TEST(ValueTest, ConvertsFromTheTypesThatMapWithoutLoss) {
  EXPECT_EQ(Value(42).type(), Value::Type::kInt64);
  EXPECT_EQ(Value(std::uint32_t{4'000'000'000}).int64(), 4'000'000'000);
  EXPECT_EQ(Value(true).type(), Value::Type::kBool);
  EXPECT_EQ(Value("text").type(), Value::Type::kText);
  EXPECT_EQ(Value(std::string_view("sv")).text(), "sv");
  EXPECT_EQ(Value(Bytes{0, 1}).type(), Value::Type::kBlob);
  const Bytes bytes = {9, 8};
  EXPECT_EQ(Value(ByteView(bytes)).blob(), bytes);
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value(std::optional<std::int64_t>()).is_null());
  EXPECT_EQ(Value(std::optional<std::string>("x")), Value("x"));
  static_assert(!std::is_convertible_v<std::uint64_t, Value>, "may not fit int64");
  static_assert(!std::is_convertible_v<double, Value>, "no floating point near money");
}

TEST(ValueTest, DebugStringShowsTypeAndCutsLongValues) {
  EXPECT_EQ(Value().DebugString(), "NULL");
  EXPECT_EQ(Value(-5).DebugString(), "-5");
  EXPECT_EQ(Value(false).DebugString(), "false");
  EXPECT_EQ(Value("ab").DebugString(), "'ab'");
  EXPECT_EQ(Value(Bytes{0x00, 0xff}).DebugString(), "x'00ff'");
  EXPECT_EQ(Value(Bytes(40, 1)).DebugString().find("...(40 bytes)") != std::string::npos, true);
}

TEST(RowTest, TypedAccessByIndexAndName) {
  auto names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"id", "holder", "flag_int", "missing"});
  Row row(names, {Value(7), Value("alice"), Value(1), Value()});
  EXPECT_EQ(*row.GetInt64(0), 7);
  EXPECT_EQ(*row.GetText("Holder"), "alice");
  EXPECT_EQ(*row.GetBool("flag_int"), true) << "0/1 integers read as bool";
  EXPECT_EQ(*row.GetOptionalText("missing"), std::nullopt);
  EXPECT_EQ(row.GetText("missing").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(row.GetInt64(std::size_t{4}).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(row.ColumnIndex("nope").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(row.GetBool("id").status().code(), ErrorCode::kInvalidArgument) << "7 is not a bool";
  auto wrong = row.GetBlob("holder");
  EXPECT_EQ(wrong.status().message(), "column 'holder' (index 1): expected blob, got text");
}

}  // namespace
}  // namespace tapstack::store
