// One or more negative cases for every MPM validation rule.
#include "qr/mpm_validation.h"

#include <gtest/gtest.h>

#include <string>

#include "qr/mpm.h"
#include "qr_test_util.h"

namespace tapstack::qr {
namespace {

using qr::testing::Describe;
using qr::testing::HasIssue;
using qr::testing::WithCrc;

constexpr std::string_view kHead = "000201010212";
constexpr std::string_view kAccount = "29300012D156000000000510A93FO3230Q";
constexpr std::string_view kMerchant =
    "52044111"
    "5303156"
    "5802CN"
    "5914BEST TRANSPORT"
    "6007BEIJING";

std::string Body(std::string_view extra = "") {
  return std::string(kHead) + std::string(kAccount) + std::string(kMerchant) + std::string(extra);
}

// Decodes `payload` and expects an error containing all `needles`.
void ExpectError(const std::string& payload, std::initializer_list<std::string_view> needles,
                 const MpmValidationOptions& options = {}) {
  const MpmDecoded decoded = DecodeMpm(payload, options);
  EXPECT_FALSE(decoded.valid()) << payload;
  EXPECT_TRUE(HasIssue(decoded.errors, "id", needles)) << "payload " << payload << "\nerrors:\n"
                                                       << Describe(decoded.errors, "id");
}

void ExpectValid(const std::string& payload, const MpmValidationOptions& options = {}) {
  const MpmDecoded decoded = DecodeMpm(payload, options);
  EXPECT_TRUE(decoded.valid()) << payload << "\n" << Describe(decoded.errors, "id");
}

TEST(MpmValidationTest, BaselineIsValid) { ExpectValid(WithCrc(Body())); }

TEST(MpmValidationTest, PayloadFormatIndicatorFirstAndEqualTo01) {
  ExpectError(WithCrc("010212000201" + std::string(kAccount) + std::string(kMerchant)),
              {"id 01 at offset 0", "must start with id 00"});
  ExpectError(WithCrc("000202010212" + std::string(kAccount) + std::string(kMerchant)),
              {"id 00", "expected '01'"});
  ExpectError(WithCrc("0003001010212" + std::string(kAccount) + std::string(kMerchant)),
              {"id 00", "length 3; expected 2"});
}

TEST(MpmValidationTest, PointOfInitiationIsStaticOrDynamic) {
  ExpectError(WithCrc("000201010213" + std::string(kAccount) + std::string(kMerchant)),
              {"id 01 at offset 6", "expected '11' (static) or '12' (dynamic)"});
  ExpectValid(WithCrc("000201010211" + std::string(kAccount) + std::string(kMerchant)));
  ExpectValid(WithCrc("000201" + std::string(kAccount) + std::string(kMerchant)));  // optional
}

TEST(MpmValidationTest, MandatoryObjects) {
  const std::string without[][2] = {{"52044111", "52"},
                                    {"5303156", "53"},
                                    {"5802CN", "58"},
                                    {"5914BEST TRANSPORT", "59"},
                                    {"6007BEIJING", "60"}};
  for (const auto& [object, id] : without) {
    std::string body = Body();
    body.erase(body.find(object), object.size());
    ExpectError(WithCrc(body), {"missing mandatory id " + id});
  }
  std::string no_account = Body();
  no_account.erase(no_account.find(kAccount), kAccount.size());
  ExpectError(WithCrc(no_account), {"at least one of ids 02-51"});
  ExpectError(Body(), {"missing mandatory id 63"});
}

TEST(MpmValidationTest, CrcObjectLastWithLength04AndCorrectValue) {
  const std::string valid = WithCrc(Body());
  ExpectError(valid + "6102AB", {"id 63", "must be the last object; 1 object(s) follow"});
  ExpectError(Body() + "6303ABC", {"id 63", "CRC object length 03; expected 04"});
  ExpectError(Body() + "6305ABCDE", {"CRC object length 05"});
  ExpectError(Body() + "6304ZZZZ", {"id 63", "not 4 hex digits"});
  std::string wrong = valid;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  ExpectError(wrong, {"id 63", "CRC mismatch", "computed " + valid.substr(valid.size() - 4)});
  // CRC computed without the "6304" prefix is wrong.
  const std::string body = Body();
  ExpectError(body + "6304" + FormatCrc16(Crc16CcittFalse(body)), {"CRC mismatch"});
}

TEST(MpmValidationTest, CrcOverUtf8BytesNotOtherEncodings) {
  // The right CRC for a Latin-1 encoding of the same text does not verify the UTF-8 payload.
  const std::string utf8_body = Body("64150002FR0105Crêpe");
  std::string latin1 = utf8_body + "6304";
  latin1.replace(latin1.find("\xC3\xAA"), 2, "\xEA");
  const std::string payload = utf8_body + "6304" + FormatCrc16(Crc16CcittFalse(latin1));
  ExpectError(payload, {"CRC mismatch"});
  ExpectValid(WithCrc(utf8_body));
}

TEST(MpmValidationTest, DuplicateIdsAtAnyLevel) {
  ExpectError(WithCrc(Body("5904ACME")), {"id 59", "duplicate id 59 (first at offset"});
  ExpectError(WithCrc(Body("62140103ABC0103DEF")), {"id 62.01", "duplicate id 01"});
  ExpectError(WithCrc(Body("26200004abcd0004efgh0102xy")), {"id 26.00", "duplicate"});
}

TEST(MpmValidationTest, LengthDigitsAndIds) {
  ExpectError(WithCrc(Body("6100")), {"id 61", "length 00; expected 01-99"});
  ExpectError(Body("6A0212"), {"expected a 2-digit id", "'6A'"});
  ExpectError(Body("610X12"), {"id 61", "2-digit length"});
  ExpectError(Body("6199short"), {"id 61", "runs past the end", "length 99"});
  ExpectError(Body("61"), {"truncated data object"});
}

TEST(MpmValidationTest, LengthCountsCharactersNotBytes) {
  // "最佳运输" is 4 characters; a byte count (12) makes the value run into the next object.
  ExpectValid(WithCrc(Body("64200002ZH0104最佳运输0202北京")));
  const std::string byte_counted = Body("64280002ZH0112最佳运输0206北京");
  const MpmDecoded decoded = DecodeMpm(WithCrc(byte_counted));
  EXPECT_FALSE(decoded.valid());
}

TEST(MpmValidationTest, NumericFieldsAreDigitsWithFixedLengths) {
  std::string body = Body();
  body.replace(body.find("52044111"), 8, "520441A1");
  ExpectError(WithCrc(body), {"id 52", "Merchant Category Code '41A1': expected digits only"});
  body = Body();
  body.replace(body.find("52044111"), 8, "5203411");
  ExpectError(WithCrc(body), {"id 52", "length 3; expected 4"});
}

TEST(MpmValidationTest, CurrencyCode) {
  std::string body = Body();
  body.replace(body.find("5303156"), 7, "530315A");
  ExpectError(WithCrc(body), {"id 53", "expected digits only"});
  body.replace(body.find("530315A"), 7, "5303999");
  const MpmDecoded unknown = DecodeMpm(WithCrc(body));
  EXPECT_TRUE(unknown.valid()) << Describe(unknown.errors, "id");
  EXPECT_TRUE(HasIssue(unknown.warnings, "id", {"id 53", "'999'", "ISO 4217"}));
  MpmValidationOptions strict;
  strict.require_known_currency = true;
  ExpectError(WithCrc(body), {"id 53", "'999'", "ISO 4217"}, strict);
}

TEST(MpmValidationTest, CountryCode) {
  std::string body = Body();
  body.replace(body.find("5802CN"), 6, "5802cn");
  ExpectError(WithCrc(body), {"id 58", "two letters A-Z"});
  body.replace(body.find("5802cn"), 6, "5802C1");
  ExpectError(WithCrc(body), {"id 58", "two letters A-Z"});
  body.replace(body.find("5802C1"), 6, "5803CHN");
  ExpectError(WithCrc(body), {"id 58", "length 3; expected 2"});
  body.replace(body.find("5803CHN"), 7, "5802ZZ");
  const MpmDecoded unknown = DecodeMpm(WithCrc(body));
  EXPECT_TRUE(unknown.valid()) << Describe(unknown.errors, "id");
  EXPECT_TRUE(HasIssue(unknown.warnings, "id", {"id 58", "'ZZ'"}));
  MpmValidationOptions strict;
  strict.require_known_country = true;
  ExpectError(WithCrc(body), {"id 58", "'ZZ'"}, strict);
}

TEST(MpmValidationTest, AmountFormat) {
  ExpectValid(WithCrc(Body("540598.73")));
  ExpectValid(WithCrc(Body("540298")));
  ExpectValid(WithCrc(Body("540398.")));
  ExpectValid(WithCrc(Body("54131234567890.12")));
  ExpectError(WithCrc(Body("540598,73")), {"id 54", "'98,73'", "decimal mark"});
  ExpectError(WithCrc(Body("54059 .73")), {"id 54", "' '"});
  ExpectError(WithCrc(Body("54061.2.34")), {"id 54", "more than one '.'"});
  ExpectError(WithCrc(Body("5403.50")), {"id 54", "starts with '.'"});
  ExpectError(WithCrc(Body("54040.00")), {"id 54", "is zero"});
  ExpectError(WithCrc(Body("5404-1.0")), {"id 54", "'-'"});
  ExpectError(WithCrc(Body("5414123456789012.1")), {"id 54", "length 14; expected 1-13"});
  ExpectError(WithCrc(Body("54051.234")), {"id 54", "3 decimal(s); CNY has 2"});
}

TEST(MpmValidationTest, AmountDecimalsFollowTheCurrencyExponent) {
  std::string body = Body("54051000.");
  body.replace(body.find("5303156"), 7, "5303392");  // JPY, exponent 0
  body.replace(body.find("5802CN"), 6, "5802JP");
  ExpectValid(WithCrc(body));
  body.replace(body.find("54051000."), 9, "54061000.5");
  ExpectError(WithCrc(body), {"id 54", "JPY has 0"});
}

TEST(MpmValidationTest, TipAndConvenienceFee) {
  ExpectValid(WithCrc(Body("550201")));
  ExpectValid(
      WithCrc(Body("550202"
                   "56031.5")));
  ExpectValid(
      WithCrc(Body("550203"
                   "570503.25")));
  ExpectError(WithCrc(Body("550204")), {"id 55", "expected 01, 02 or 03"});
  ExpectError(WithCrc(Body("550202")), {"id 55", "requires id 56"});
  ExpectError(WithCrc(Body("550203")), {"id 55", "requires id 57"});
  ExpectError(WithCrc(Body("56031.5")), {"id 56", "only allowed with 55 = 02"});
  ExpectError(WithCrc(Body("550202"
                           "56031.5"
                           "570503.25")),
              {"id 57", "only allowed with 55 = 03"});
  ExpectError(WithCrc(Body("550203"
                           "5703100")),
              {"id 57", "100 or more"});
  ExpectError(WithCrc(Body("550203"
                           "57055.555")),
              {"id 57", "more than two decimals"});
  ExpectError(WithCrc(Body("550203"
                           "570500.00")),
              {"id 57", "is zero"});
  ExpectError(WithCrc(Body("550203"
                           "57043.5%")),
              {"id 57", "'%'"});
  ExpectError(WithCrc(Body("550202"
                           "56030,5")),
              {"id 56", "decimal mark"});
}

TEST(MpmValidationTest, TemplatesNeedTheirMandatorySubIds) {
  ExpectError(WithCrc(Body("26080104ABCD")), {"id 26", "missing mandatory sub-id 00"});
  ExpectError(WithCrc(Body("80080104ABCD")), {"id 80", "missing mandatory sub-id 00"});
  ExpectError(WithCrc(Body("62125008"
                           "0104ABCD")),
              {"id 62.50", "missing mandatory sub-id 00"});
  ExpectError(WithCrc(Body("64060002ZH")), {"id 64", "sub-id 01"});
  ExpectError(WithCrc(Body("64120104最佳运输")), {"id 64", "sub-id 00"});
  ExpectError(WithCrc(Body("64140002Z10104ACME")), {"id 64.00", "two letters"});
  // A GUID of 33 characters is over EMVCo's 32 (free text: a warning by default).
  const std::string guid(33, 'A');
  const std::string long_guid = Body(
      "2637"
      "0033" +
      guid);
  const MpmDecoded decoded = DecodeMpm(WithCrc(long_guid));
  EXPECT_TRUE(decoded.valid()) << Describe(decoded.errors, "id");
  EXPECT_TRUE(HasIssue(decoded.warnings, "id", {"id 26.00", "length 33; expected 1-32"}));
}

TEST(MpmValidationTest, TemplateWithBadInnerStructure) {
  ExpectError(WithCrc(Body("2606ABCDEF")), {"expected a 2-digit id", "'AB'"});
  ExpectError(WithCrc(Body("62060199ab")), {"id 62.01", "runs past the end"});
}

TEST(MpmValidationTest, AdditionalConsumerDataRequest) {
  ExpectValid(WithCrc(Body("62070903AME")));
  ExpectValid(
      WithCrc(Body("620509"
                   "01M")));
  ExpectError(WithCrc(Body("62060902MX")), {"id 62.09", "only the letters A, M and E"});
  ExpectError(WithCrc(Body("62060902MM")), {"id 62.09", "'M' appears twice"});
  ExpectError(WithCrc(Body("62080904AMEA")), {"id 62.09", "length 4; expected 1-3"});
}

TEST(MpmValidationTest, FreeTextMaximaAreWarningsUnlessStrict) {
  const std::string payload =
      WithCrc(Body("6111"
                   "12345678901"));  // postal code max 10
  const MpmDecoded lenient = DecodeMpm(payload);
  EXPECT_TRUE(lenient.valid()) << Describe(lenient.errors, "id");
  EXPECT_TRUE(HasIssue(lenient.warnings, "id", {"id 61", "Postal Code: length 11"}));
  MpmValidationOptions strict;
  strict.strict_text_lengths = true;
  ExpectError(payload, {"id 61", "Postal Code: length 11; expected 1-10"}, strict);
}

TEST(MpmValidationTest, InvalidUtf8IsReportedAndParsingContinues) {
  std::string body = Body();
  body.replace(body.find("BEST TRANSPORT"), 1, "\xFF");  // one byte for one character
  const MpmDecoded decoded = DecodeMpm(WithCrc(body));
  EXPECT_TRUE(HasIssue(decoded.errors, "id", {"invalid UTF-8 at byte offset"}))
      << Describe(decoded.errors, "id");
  EXPECT_EQ(decoded.errors.size(), 1u) << Describe(decoded.errors, "id");
  ASSERT_NE(decoded.Find("60"), nullptr);  // parsed past the bad byte
  EXPECT_EQ(decoded.Find("60")->value, "BEIJING");
}

TEST(MpmValidationTest, PayloadCharacterLimit) {
  std::string rfu;
  for (int id = 65; id <= 70; ++id) rfu += std::to_string(id) + "99" + std::string(99, 'x');
  ExpectError(WithCrc(Body(rfu)), {"characters; at most 512"});
  MpmValidationOptions small;
  small.payload_chars_max = 100;
  ExpectError(WithCrc(Body()), {"at most 100"}, small);
}

}  // namespace
}  // namespace tapstack::qr
