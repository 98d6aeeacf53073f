#include "emv/status_word.h"

#include <gtest/gtest.h>

namespace tapstack::emv {
namespace {

TEST(StatusWordTest, BytesAndClasses) {
  constexpr StatusWord sw(0x6A, 0x82);
  static_assert(sw.value() == 0x6A82);
  EXPECT_EQ(sw.sw1(), 0x6A);
  EXPECT_EQ(sw.sw2(), 0x82);
  EXPECT_EQ(sw, kSwFileNotFound);
  EXPECT_TRUE(kSwSuccess.IsSuccess());
  EXPECT_TRUE(kSwSuccess.IsNormal());
  EXPECT_TRUE(StatusWord(0x6110).IsNormal());
  EXPECT_FALSE(StatusWord(0x6110).IsSuccess());
  EXPECT_TRUE(StatusWord(0x63C2).IsWarning());
  EXPECT_TRUE(StatusWord(0x6283).IsWarning());
  EXPECT_FALSE(kSwConditionsNotSatisfied.IsNormal());
}

TEST(StatusWordTest, NamesOfTheUsualStatusWords) {
  EXPECT_EQ(StatusWordName(kSwSuccess), "success");
  EXPECT_EQ(StatusWordName(kSwFileNotFound), "file or application not found");
  EXPECT_EQ(StatusWordName(kSwConditionsNotSatisfied), "conditions of use not satisfied");
  EXPECT_EQ(StatusWordName(kSwReferenceDataNotUsable), "reference data not usable");
  EXPECT_EQ(StatusWordName(kSwReferencedDataNotFound), "referenced data not found");
  EXPECT_EQ(StatusWordName(kSwWrongLength), "wrong length");
  EXPECT_EQ(StatusWordName(kSwInsNotSupported), "instruction code not supported or invalid");
  EXPECT_EQ(StatusWordName(kSwClaNotSupported), "class not supported");
  EXPECT_EQ(StatusWordName(kSwSelectedFileInvalidated), "selected file invalidated");
  EXPECT_EQ(StatusWordName(StatusWord(0x63C1)), "verification failed, retries counted");
  EXPECT_EQ(StatusWordName(StatusWord(0x6120)), "more response bytes available");
  EXPECT_EQ(StatusWordName(StatusWord(0x6C10)), "wrong Le");
  EXPECT_EQ(StatusWordName(StatusWord(0x1234)), "unknown status");
}

TEST(StatusWordTest, DescriptionsCarryTheParameter) {
  EXPECT_EQ(DescribeStatusWord(kSwSuccess), "9000 success");
  EXPECT_EQ(DescribeStatusWord(kSwFileNotFound), "6A82 file or application not found");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x63C2)), "63C2 verification failed, 2 retries left");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x63C1)), "63C1 verification failed, 1 retry left");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x6110)), "6110 16 more response bytes available");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x6100)), "6100 256 more response bytes available");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x6C08)), "6C08 wrong Le, exact length 8");
  EXPECT_EQ(DescribeStatusWord(StatusWord(0x6D00)),
            "6D00 instruction code not supported or invalid");
}

}  // namespace
}  // namespace tapstack::emv
