#include "crypto/secret_bytes.h"

#include <gtest/gtest.h>

#include <ostream>
#include <type_traits>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

template <typename T>
concept Printable = requires(std::ostream& os, const T& value) {
  os << value;
};

// Key material cannot be printed or copied by accident.
static_assert(!Printable<SecretBytes>);
static_assert(Printable<int>);
static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(CryptoSecretBytes, FromHexDecodesAndRevealsBytes) {
  ASSERT_OK_AND_ASSIGN(SecretBytes key, SecretBytes::FromHex("0123456789abcdef"));
  EXPECT_EQ(key.size(), 8u);
  EXPECT_EQ(testing::ToHex(key.reveal()), "0123456789ABCDEF");
}

TEST(CryptoSecretBytes, FromHexErrorDoesNotEchoTheKey) {
  const Result<SecretBytes> odd = SecretBytes::FromHex("0123456789ABCDE");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message().find("0123456789ABCDE"), std::string::npos);
  const Result<SecretBytes> bad = SecretBytes::FromHex("01234567Z9ABCDEF");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("01234567Z9"), std::string::npos);
}

TEST(CryptoSecretBytes, MoveLeavesTheSourceEmpty) {
  SecretBytes a = testing::Key("00112233445566778899AABBCCDDEEFF");
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.size(), 16u);
  SecretBytes c = testing::Key("FF");
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(testing::ToHex(c.reveal()), "00112233445566778899AABBCCDDEEFF");
}

TEST(CryptoSecretBytes, CloneAndConstantTimeEquality) {
  const SecretBytes a = testing::Key("0011223344556677");
  const SecretBytes b = a.Clone();
  EXPECT_TRUE(a.EqualsConstantTime(b));
  EXPECT_FALSE(a.EqualsConstantTime(testing::Key("0011223344556676")));
  EXPECT_FALSE(a.EqualsConstantTime(testing::Key("00112233445566")));
}

TEST(CryptoSecretBytes, ZeroedAndMutableBytes) {
  SecretBytes key = SecretBytes::Zeroed(4);
  EXPECT_EQ(testing::ToHex(key.reveal()), "00000000");
  key.mutable_bytes()[3] = 0xAB;
  EXPECT_EQ(testing::ToHex(key.reveal()), "000000AB");
}

}  // namespace
}  // namespace tapstack::crypto
