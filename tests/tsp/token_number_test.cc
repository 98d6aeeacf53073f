#include "tsp/token_number.h"

#include <gtest/gtest.h>

#include <set>

#include "core/pan.h"
#include "tsp/limits.h"

namespace tapstack::tsp {
namespace {

Result<bool> NeverTaken(std::string_view) { return false; }

TokenNumberGenerator Make(std::vector<TokenBinRange> ranges,
                          std::vector<IssuerBinRange> issuers = {},
                          KnownPanPredicate known = nullptr) {
  auto g = TokenNumberGenerator::Create(std::move(ranges), issuers, std::move(known));
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return std::move(*g);
}

Status CreateError(std::vector<TokenBinRange> ranges, std::vector<IssuerBinRange> issuers = {}) {
  return TokenNumberGenerator::Create(std::move(ranges), issuers, nullptr).status();
}

void ExpectInvalid(const Status& s, const std::string& names) {
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(names), std::string::npos) << s.message();
}

TEST(TokenNumberTest, GeneratesLuhnValidNumbersInsideTheRange) {
  TokenNumberGenerator g = Make({{"49990000", "49990009", 16}});
  SeededRandom random(1);
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    auto n = g.Generate(random, NeverTaken);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(n->size(), 16u);
    EXPECT_TRUE(LuhnValid(*n)) << *n;
    EXPECT_GE(n->substr(0, 8), "49990000");
    EXPECT_LE(n->substr(0, 8), "49990009");
    EXPECT_TRUE(g.InTokenRange(*n));
    seen.insert(*n);
  }
  // 7 random digits per BIN: 500 draws from 10^8 numbers essentially never collide.
  EXPECT_EQ(seen.size(), 500u);
}

TEST(TokenNumberTest, SameSeedSameNumbersAndNineteenDigitRanges) {
  TokenNumberGenerator g = Make({{"49990000", "49990000", 19}, {"48880000", "48880099", 16}});
  SeededRandom a(7), b(7);
  std::set<std::size_t> lengths;
  for (int i = 0; i < 50; ++i) {
    auto x = g.Generate(a, NeverTaken);
    auto y = g.Generate(b, NeverTaken);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(*x, *y);
    EXPECT_TRUE(LuhnValid(*x));
    lengths.insert(x->size());
  }
  EXPECT_TRUE(lengths.count(16) == 1 || lengths.count(19) == 1);
}

TEST(TokenNumberTest, RedrawsKnownPansAndTakenNumbers) {
  int known_calls = 0;
  TokenNumberGenerator g = Make({{"49990000", "49990000", 16}}, {},
                                [&](std::string_view) { return ++known_calls <= 3; });
  SeededRandom random(3);
  std::set<std::string> taken;
  auto first = g.Generate(random, NeverTaken);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(known_calls, 4);  // three refused as known PANs, the fourth accepted
  taken.insert(*first);
  int taken_calls = 0;
  auto second = g.Generate(random, [&](std::string_view n) -> Result<bool> {
    ++taken_calls;
    return taken_calls == 1 || taken.count(std::string(n)) > 0;
  });
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);
  EXPECT_EQ(taken_calls, 2);
}

TEST(TokenNumberTest, GivesUpWhenEveryDrawIsTaken) {
  TokenNumberGenerator g = Make({{"49990000", "49990000", 16}});
  SeededRandom random(3);
  int calls = 0;
  auto n = g.Generate(random, [&](std::string_view) -> Result<bool> {
    ++calls;
    return true;
  });
  EXPECT_EQ(n.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(calls, kTokenNumberAttemptsMax);
  auto failing = g.Generate(
      random, [](std::string_view) -> Result<bool> { return Unavailable("vault down"); });
  EXPECT_EQ(failing.status().code(), ErrorCode::kUnavailable);
}

TEST(TokenNumberTest, RefusesMalformedRangesNamingTheField) {
  ExpectInvalid(CreateError({}), "token_ranges");
  ExpectInvalid(CreateError({{"4999000", "49990001", 16}}), "token_ranges[0].low");
  ExpectInvalid(CreateError({{"49990000", "4999000X", 16}}), "token_ranges[0].high");
  ExpectInvalid(CreateError({{"49990009", "49990000", 16}}), "token_ranges[0]: low");
  ExpectInvalid(CreateError({{"49990000", "49990000", 15}}), "token_ranges[0].token_digits");
  ExpectInvalid(CreateError({{"49990000", "49990000", 20}}), "token_ranges[0].token_digits");
  ExpectInvalid(CreateError({{"49990000", "49990000", 16}}, {{"4111", "4111"}}),
                "issuer_ranges[0].low");
}

TEST(TokenNumberTest, RefusesOverlappingTokenRanges) {
  ExpectInvalid(CreateError({{"49990000", "49990050", 16}, {"49990050", "49990099", 16}}),
                "token_ranges[1] overlaps token_ranges[0]");
}

TEST(TokenNumberTest, RefusesTokenRangesOverlappingIssuerBins) {
  // A 6-digit issuer BIN covers all 100 8-digit BINs under it.
  ExpectInvalid(CreateError({{"49990099", "49990099", 16}}, {{"499900", "499900"}}),
                "token_ranges[0] overlaps issuer_ranges[0]");
  ExpectInvalid(CreateError({{"49990000", "49990000", 16}},
                            {{"62220200", "62220299"}, {"49989999", "49990000"}}),
                "issuer_ranges[1]");
  // Adjacent but disjoint is fine.
  EXPECT_TRUE(
      CreateError({{"49990000", "49990099", 16}}, {{"499899", "499899"}, {"499901", "499901"}})
          .ok());
}

TEST(TokenNumberTest, InTokenRangeChecksBinAndLength) {
  TokenNumberGenerator g = Make({{"49990000", "49990099", 16}});
  EXPECT_TRUE(g.InTokenRange("4999005012345678"));
  EXPECT_FALSE(g.InTokenRange("4999015012345678"));   // BIN outside
  EXPECT_FALSE(g.InTokenRange("49990050123456789"));  // wrong length
  EXPECT_FALSE(g.InTokenRange("4999x05012345678"));
}

}  // namespace
}  // namespace tapstack::tsp
