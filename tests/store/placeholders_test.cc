#include "store/placeholders.h"

#include <gtest/gtest.h>

namespace tapstack::store::internal {
namespace {

TEST(NumberPlaceholdersTest, NumbersEachQuestionMarkInOrder) {
  auto out = NumberPlaceholders("INSERT INTO t (a, b, c) VALUES (?, ?,?)");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sql, "INSERT INTO t (a, b, c) VALUES ($1, $2,$3)");
  EXPECT_EQ(out->parameter_count, 3);
}

TEST(NumberPlaceholdersTest, LeavesStringsIdentifiersAndCommentsAlone) {
  auto out = NumberPlaceholders(
      "SELECT 'a?''?', \"b?\"\"?\", E'c\\'?', $$d?$$, $tag$e?$tag$ /* f? /* g? */ ? */ -- h?\n"
      "FROM t WHERE x = ?");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->parameter_count, 1);
  EXPECT_EQ(
      out->sql,
      "SELECT 'a?''?', \"b?\"\"?\", E'c\\'?', $$d?$$, $tag$e?$tag$ /* f? /* g? */ ? */ -- h?\n"
      "FROM t WHERE x = $1");
}

TEST(NumberPlaceholdersTest, DollarInsideAnIdentifierIsNotAQuote) {
  auto out = NumberPlaceholders("SELECT a$b, ? FROM t");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sql, "SELECT a$b, $1 FROM t");
}

TEST(NumberPlaceholdersTest, RefusesNumberedPlaceholders) {
  EXPECT_EQ(NumberPlaceholders("SELECT $1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NumberPlaceholders("SELECT ?2").status().code(), ErrorCode::kInvalidArgument);
}

TEST(NumberPlaceholdersTest, RefusesUnterminatedQuotesAndComments) {
  for (const char* sql :
       {"SELECT 'abc", "SELECT \"abc", "SELECT /* x", "SELECT $$ x", "SELECT E'\\'"}) {
    auto out = NumberPlaceholders(sql);
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument) << sql;
  }
}

TEST(NumberPlaceholdersTest, NoPlaceholders) {
  auto out = NumberPlaceholders("SELECT 1");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->sql, "SELECT 1");
  EXPECT_EQ(out->parameter_count, 0);
}

}  // namespace
}  // namespace tapstack::store::internal
