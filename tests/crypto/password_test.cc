#include "crypto/password.h"

#include <gtest/gtest.h>

#include <string>

#include "core/random_source.h"
#include "crypto/csprng.h"
#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

// Cheap parameters for tests (1 MiB); production uses the defaults.
constexpr ScryptParams kFast{.log2_n = 10, .r = 8, .p = 1};

TEST(CryptoPassword, HashThenVerify) {
  Csprng random;
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPassword("correct horse", random, kFast));
  EXPECT_EQ(encoded.rfind("$scrypt$ln=10,r=8,p=1$", 0), 0u) << encoded;
  EXPECT_OK(VerifyPassword("correct horse", encoded));
}

TEST(CryptoPassword, WrongPasswordIsACryptoFailure) {
  Csprng random;
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPassword("correct horse", random, kFast));
  EXPECT_CODE(VerifyPassword("correct horsf", encoded), ErrorCode::kCryptoFailure);
  EXPECT_CODE(VerifyPassword("Correct horse", encoded), ErrorCode::kCryptoFailure);
}

TEST(CryptoPassword, SaltMakesEqualPasswordsHashDifferently) {
  Csprng random;
  ASSERT_OK_AND_ASSIGN(std::string a, HashPassword("1234", random, kFast));
  ASSERT_OK_AND_ASSIGN(std::string b, HashPassword("1234", random, kFast));
  EXPECT_NE(a, b);
  EXPECT_OK(VerifyPassword("1234", a));
  EXPECT_OK(VerifyPassword("1234", b));
}

TEST(CryptoPassword, InjectedRandomSourceIsDeterministic) {
  SeededRandom r1(42);
  SeededRandom r2(42);
  ASSERT_OK_AND_ASSIGN(std::string a, HashPassword("pin", r1, kFast));
  ASSERT_OK_AND_ASSIGN(std::string b, HashPassword("pin", r2, kFast));
  EXPECT_EQ(a, b);
}

TEST(CryptoPassword, Rfc7914TestVector3) {
  // RFC 7914 section 12: P = "pleaseletmein", S = "SodiumChloride", N = 16384, r = 8, p = 1; the
  // first 32 bytes of the 64-byte output (PBKDF2 output blocks are independent).
  const std::string encoded =
      "$scrypt$ln=14,r=8,p=1$536F6469756D43686C6F72696465$"
      "7023BDCB3AFD7348461C06CD81FD38EBFDA8FBBA904F8E3EA9B543F6545DA1F2";
  EXPECT_OK(VerifyPassword("pleaseletmein", encoded));
  EXPECT_CODE(VerifyPassword("pleaseletmeim", encoded), ErrorCode::kCryptoFailure);
}

TEST(CryptoPassword, DefaultParametersWork) {
  Csprng random;
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPassword("default-cost", random));
  EXPECT_EQ(encoded.rfind("$scrypt$ln=15,r=8,p=1$", 0), 0u);
  EXPECT_OK(VerifyPassword("default-cost", encoded));
}

TEST(CryptoPassword, TamperedHashFails) {
  Csprng random;
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPassword("pw", random, kFast));
  std::string tampered = encoded;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_CODE(VerifyPassword("pw", tampered), ErrorCode::kCryptoFailure);
}

TEST(CryptoPassword, MalformedEncodingsAreInvalidArguments) {
  const std::string salt(32, 'A');
  const std::string hash(64, 'B');
  const std::string bad[] = {
      "",
      "$bcrypt$ln=10,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8$" + salt + "$" + hash,
      "$scrypt$ln=x,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=1$" + salt,
      "$scrypt$ln=10,r=8,p=1$" + salt + "$" + hash.substr(2),
      "$scrypt$ln=10,r=8,p=1$ZZ" + salt.substr(2) + "$" + hash,
      "$scrypt$ln=10,r=8,p=1$AABB$" + hash,           // salt too short
      "$scrypt$ln=30,r=8,p=1$" + salt + "$" + hash,   // N above the limit
      "$scrypt$ln=20,r=32,p=1$" + salt + "$" + hash,  // memory above the limit
      "$scrypt$ln=10,r=0,p=1$" + salt + "$" + hash,
      "$scrypt$ln=10,r=8,p=99$" + salt + "$" + hash,
      "$scrypt$ln=99999999999,r=8,p=1$" + salt + "$" + hash,  // overflows uint32
  };
  for (const std::string& encoded : bad) {
    SCOPED_TRACE(encoded);
    EXPECT_CODE(VerifyPassword("pw", encoded), ErrorCode::kInvalidArgument);
  }
}

TEST(CryptoPassword, RejectsBadPasswordsAndParameters) {
  Csprng random;
  EXPECT_CODE(HashPassword("", random, kFast), ErrorCode::kInvalidArgument);
  EXPECT_CODE(HashPassword(std::string(kPasswordBytesMax + 1, 'x'), random, kFast),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(HashPassword("pw", random, {.log2_n = 9, .r = 8, .p = 1}),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(HashPassword("pw", random, {.log2_n = 21, .r = 8, .p = 1}),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
