#include "core/random_source.h"

#include <gtest/gtest.h>

#include <array>
#include <map>

namespace tapstack {
namespace {

TEST(SeededRandomTest, SameSeedSameSequence) {
  SeededRandom a(42);
  SeededRandom b(42);
  SeededRandom c(43);
  std::array<std::uint8_t, 37> x{}, y{}, z{};
  ASSERT_TRUE(a.Fill(x).ok());
  ASSERT_TRUE(b.Fill(y).ok());
  ASSERT_TRUE(c.Fill(z).ok());
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

TEST(SeededRandomTest, UniformStaysInBoundsAndCoversRange) {
  SeededRandom r(7);
  std::map<std::uint64_t, int> seen;
  for (int i = 0; i < 6000; ++i) {
    auto v = r.Uniform(6);
    ASSERT_TRUE(v.ok());
    ASSERT_LT(*v, 6u);
    ++seen[*v];
  }
  ASSERT_EQ(seen.size(), 6u);
  for (auto [value, count] : seen) EXPECT_GT(count, 800) << value;  // expected 1000 each
  EXPECT_FALSE(r.Uniform(0).ok());
}

}  // namespace
}  // namespace tapstack
