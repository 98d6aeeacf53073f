// The Visa CVV / Mastercard CVC algorithm against the published vectors in
// tests/vectors/card_verification.json, plus its decimalisation and input checks.
#include "crypto/card_verification.h"

#include <gtest/gtest.h>

#include <string>

#include "core/hex.h"
#include "crypto_test_util.h"
#include "support/vectors.h"

namespace tapstack::crypto {
namespace {

using nlohmann::json;
using testing::Hex;
using testing::Key;

std::string S(const json& v, const char* field) { return v.at(field).get<std::string>(); }

TEST(CardVerificationTest, PublishedVectors) {
  const json doc = tapstack::testing::LoadVectors("card_verification.json");
  ASSERT_GE(doc.at("vectors").size(), 2u);
  for (const json& v : doc.at("vectors")) {
    SCOPED_TRACE(S(v, "id") + " from " + S(v, "source"));
    const SecretBytes cvk = Key(S(v, "cvk"));
    ASSERT_OK_AND_ASSIGN(
        std::string value,
        GenerateCardVerificationValue(cvk, S(v, "pan"), S(v, "expiry"), S(v, "service_code")));
    EXPECT_EQ(value, S(v, "expected_cvv"));
    EXPECT_OK(VerifyCardVerificationValue(cvk, S(v, "pan"), S(v, "expiry"), S(v, "service_code"),
                                          S(v, "expected_cvv")));
    // Any other 3 digits are refused.
    std::string wrong = S(v, "expected_cvv");
    wrong[2] = wrong[2] == '9' ? '0' : static_cast<char>(wrong[2] + 1);
    EXPECT_CODE(
        VerifyCardVerificationValue(cvk, S(v, "pan"), S(v, "expiry"), S(v, "service_code"), wrong),
        ErrorCode::kCryptoFailure);
  }
}

// JPOS-CVV-2 has distinct key halves, so it also pins which half is single-DES key A: with the
// halves swapped (B ‖ A) the published value must not come out.
TEST(CardVerificationTest, KeyHalvesAreNotInterchangeable) {
  const json v = tapstack::testing::VectorById(
      tapstack::testing::LoadVectors("card_verification.json"), "JPOS-CVV-2");
  const std::string cvk = S(v, "cvk");
  const SecretBytes swapped = Key(cvk.substr(16) + cvk.substr(0, 16));
  ASSERT_OK_AND_ASSIGN(
      std::string value,
      GenerateCardVerificationValue(swapped, S(v, "pan"), S(v, "expiry"), S(v, "service_code")));
  EXPECT_NE(value, S(v, "expected_cvv"));
}

TEST(CardVerificationTest, ServiceCodeSelectsCvv1Cvv2AndIcvv) {
  const SecretBytes cvk = Key("0123456789ABCDEFFEDCBA9876543210");
  const std::string pan = "4000001234567899";
  ASSERT_OK_AND_ASSIGN(std::string cvv1, GenerateCardVerificationValue(cvk, pan, "2912", "201"));
  ASSERT_OK_AND_ASSIGN(std::string cvv2,
                       GenerateCardVerificationValue(cvk, pan, "2912", cvv_service_code::kCvv2));
  ASSERT_OK_AND_ASSIGN(std::string icvv,
                       GenerateCardVerificationValue(cvk, pan, "2912", cvv_service_code::kIcvv));
  for (const std::string& v : {cvv1, cvv2, icvv}) {
    EXPECT_EQ(v.size(), kCardVerificationValueDigits);
    EXPECT_TRUE(IsAllDigits(v)) << v;
  }
  EXPECT_NE(cvv1, cvv2);
  EXPECT_NE(cvv2, icvv);
  // Deterministic, and every input takes part.
  ASSERT_OK_AND_ASSIGN(std::string again, GenerateCardVerificationValue(cvk, pan, "2912", "000"));
  EXPECT_EQ(again, cvv2);
  ASSERT_OK_AND_ASSIGN(std::string other_expiry,
                       GenerateCardVerificationValue(cvk, pan, "3012", "000"));
  ASSERT_OK_AND_ASSIGN(std::string other_pan,
                       GenerateCardVerificationValue(cvk, "4000001234567881", "2912", "000"));
  EXPECT_NE(other_expiry, cvv2);
  EXPECT_NE(other_pan, cvv2);
}

TEST(CardVerificationTest, DecimalisationTakesDigitsThenLettersMinusTen) {
  EXPECT_EQ(DecimaliseVisa(Hex("0123456789ABCDEF")), "0123456789012345");
  // Letters only: the value comes entirely from the second pass (A→0 … F→5).
  EXPECT_EQ(DecimaliseVisa(Hex("ABCDEFFEDCBAABCD")), "0123455432100123");
  // Digits keep their order ahead of every letter.
  EXPECT_EQ(DecimaliseVisa(Hex("A1B2C3D4E5F6A7B8")), "1234567801234501");
  EXPECT_EQ(DecimaliseVisa(Hex("4533D6DF5B702594")).substr(0, 3),
            "453");  // JPOS-CVV-2's last block
  EXPECT_EQ(DecimaliseVisa({}), "");
}

TEST(CardVerificationTest, RejectsBadInputWithoutEchoingThePan) {
  const SecretBytes cvk = Key("0123456789ABCDEFFEDCBA9876543210");
  const std::string pan = "4000001234567899";
  EXPECT_CODE(GenerateCardVerificationValue(Key("0123456789ABCDEF"), pan, "2912", "000"),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateCardVerificationValue(Key("0123456789ABCDEFFEDCBA98765432100123456789ABCDEF"),
                                            pan, "2912", "000"),
              ErrorCode::kInvalidArgument);
  EXPECT_CODE(GenerateCardVerificationValue(SecretBytes(), pan, "2912", "000"),
              ErrorCode::kInvalidArgument);
  for (const std::string& bad_pan : std::initializer_list<std::string>{
           "40000012345", "40000012345678990123", "40000012345678A9", ""}) {
    auto r = GenerateCardVerificationValue(cvk, bad_pan, "2912", "000");
    ASSERT_FALSE(r.ok()) << bad_pan;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("PAN"), std::string::npos) << r.status().message();
    if (!bad_pan.empty()) {
      EXPECT_EQ(r.status().message().find(bad_pan), std::string::npos);
    }
  }
  for (const char* bad_expiry : {"291", "29120", "29A2", ""}) {
    auto r = GenerateCardVerificationValue(cvk, pan, bad_expiry, "000");
    ASSERT_FALSE(r.ok()) << bad_expiry;
    EXPECT_NE(r.status().message().find("expiry"), std::string::npos) << r.status().message();
  }
  for (const char* bad_code : {"00", "0000", "0A0"}) {
    auto r = GenerateCardVerificationValue(cvk, pan, "2912", bad_code);
    ASSERT_FALSE(r.ok()) << bad_code;
    EXPECT_NE(r.status().message().find("service code"), std::string::npos) << r.status().message();
  }
  // Verification reports bad input as such, not as a mismatch.
  EXPECT_CODE(VerifyCardVerificationValue(cvk, pan, "29", "000", "123"),
              ErrorCode::kInvalidArgument);
}

TEST(CardVerificationTest, VerifyRefusesWrongLengths) {
  const json v = tapstack::testing::VectorById(
      tapstack::testing::LoadVectors("card_verification.json"), "PSEC-DOC");
  const SecretBytes cvk = Key(S(v, "cvk"));
  const std::string expected = S(v, "expected_cvv");
  for (const std::string& presented :
       {expected.substr(0, 2), expected + "0", std::string(), std::string("17 ")}) {
    SCOPED_TRACE("presented '" + presented + "'");
    EXPECT_CODE(VerifyCardVerificationValue(cvk, S(v, "pan"), S(v, "expiry"), S(v, "service_code"),
                                            presented),
                ErrorCode::kCryptoFailure);
  }
}

}  // namespace
}  // namespace tapstack::crypto
