#include "crypto/csprng.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

TEST(CryptoCsprng, FillsWithDistinctRandomBytes) {
  Csprng random;
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  EXPECT_OK(random.Fill(a));
  EXPECT_OK(random.Fill(b));
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

TEST(CryptoCsprng, EmptyAndLargeFills) {
  Csprng random;
  EXPECT_OK(random.Fill({}));
  std::vector<std::uint8_t> big(1 << 20);
  EXPECT_OK(random.Fill(big));
  // 1 MiB of zeros from a working DRBG is practically impossible.
  std::size_t zeros = 0;
  for (std::uint8_t byte : big) zeros += byte == 0 ? 1 : 0;
  EXPECT_LT(zeros, big.size() / 128);
}

TEST(CryptoCsprng, WorksAsARandomSource) {
  Csprng csprng;
  RandomSource& random = csprng;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(std::uint64_t value, random.Uniform(10));
    EXPECT_LT(value, 10u);
  }
}

}  // namespace
}  // namespace tapstack::crypto
