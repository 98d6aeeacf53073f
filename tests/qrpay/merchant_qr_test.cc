// Merchant QR codes: what a platform prints reads back field for field, and a code that was
// altered (with or without fixing the CRC), expired or printed by another scheme is refused with
// the reason.
#include "qrpay/merchant_qr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qr/mpm.h"

namespace tapstack::qrpay {
namespace {

crypto::SecretBytes TestKey(char fill = 'k') { return crypto::SecretBytes(Bytes(32, static_cast<std::uint8_t>(fill))); }

MerchantProfile NoodleShop() {
  MerchantProfile m;
  m.platform_id = "tapstack-cn";
  m.merchant_id = "BJNOODLE01";
  m.name = "老北京炸酱面";  // 6 characters, 18 UTF-8 bytes
  m.city = "北京";
  m.country = "CN";
  m.currency = &Cny();
  m.mcc = "5814";
  return m;
}

DynamicOrder Order(std::int64_t minor = 2350) {
  DynamicOrder order;
  order.order_id = "ORD-20261122-0001";
  order.amount = Amount(minor, Cny());
  order.expires_unix_s = 1'795'000'000;
  return order;
}

qr::MpmEncodeOptions Unvalidated() {
  qr::MpmEncodeOptions options;
  options.validate = false;
  return options;
}

// Re-encodes `payload` with one root object's value replaced: a valid CRC over altered content.
std::string Edit(const std::string& payload, std::string_view id, std::string value) {
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  for (qr::MpmObject& object : decoded.objects) {
    if (object.id == id) object.value = std::move(value);
  }
  auto encoded = qr::EncodeMpm(decoded.objects, Unvalidated());
  return encoded.ok() ? *encoded : std::string();
}

TEST(MerchantQrTest, StaticCodeReadsBackAndVerifies) {
  auto payload = MakeStaticMerchantQr(NoodleShop(), TestKey());
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_TRUE(payload->starts_with("000201010211")) << *payload;

  auto code = ReadMerchantQr(*payload);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_FALSE(code->dynamic);
  EXPECT_FALSE(code->amount.has_value());
  EXPECT_EQ(code->merchant.merchant_id, "BJNOODLE01");
  EXPECT_EQ(code->merchant.name, "老北京炸酱面");
  EXPECT_EQ(code->merchant.city, "北京");
  EXPECT_EQ(code->merchant.currency->alpha, "CNY");
  EXPECT_TRUE(VerifyMerchantQr(*code, TestKey(), 0).ok());
}

TEST(MerchantQrTest, NameLengthCountsCharactersNotBytes) {
  auto payload = MakeStaticMerchantQr(NoodleShop(), TestKey());
  ASSERT_TRUE(payload.ok());
  EXPECT_NE(payload->find("5906老北京炸酱面"), std::string::npos) << *payload;
}

TEST(MerchantQrTest, DynamicCodeCarriesAmountOrderAndExpiry) {
  auto payload = MakeDynamicMerchantQr(NoodleShop(), Order(), TestKey());
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  auto code = ReadMerchantQr(*payload);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_TRUE(code->dynamic);
  ASSERT_TRUE(code->amount.has_value());
  EXPECT_EQ(*code->amount, Amount(2350, Cny()));
  EXPECT_EQ(code->order_id, "ORD-20261122-0001");
  EXPECT_EQ(code->expires_unix_s, 1'795'000'000);
  EXPECT_TRUE(VerifyMerchantQr(*code, TestKey(), 1'794'999'999).ok());
}

TEST(MerchantQrTest, AnAmountEditedWithAFreshCrcFailsTheMac) {
  auto payload = MakeDynamicMerchantQr(NoodleShop(), Order(), TestKey());
  ASSERT_TRUE(payload.ok());
  const std::string tampered = Edit(*payload, "54", "0.01");
  auto code = ReadMerchantQr(tampered);
  ASSERT_TRUE(code.ok()) << "the CRC is valid, so the payload reads: " << code.status().ToString();
  EXPECT_EQ(code->amount->minor_units(), 1);
  const Status verdict = VerifyMerchantQr(*code, TestKey(), 0);
  EXPECT_EQ(verdict.code(), ErrorCode::kCryptoFailure);
  EXPECT_NE(verdict.message().find("altered"), std::string::npos) << verdict.ToString();
}

TEST(MerchantQrTest, AnotherMerchantIdOrAnotherKeyFailsTheMac) {
  auto payload = MakeStaticMerchantQr(NoodleShop(), TestKey());
  ASSERT_TRUE(payload.ok());
  auto code = ReadMerchantQr(*payload);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(VerifyMerchantQr(*code, TestKey('x'), 0).code(), ErrorCode::kCryptoFailure);
  ScannedMerchantQr swapped = *code;
  swapped.merchant.merchant_id = "THIEF01";
  EXPECT_EQ(VerifyMerchantQr(swapped, TestKey(), 0).code(), ErrorCode::kCryptoFailure);
}

TEST(MerchantQrTest, AnEditWithTheOldCrcIsACrcError) {
  auto payload = MakeDynamicMerchantQr(NoodleShop(), Order(2350), TestKey());
  ASSERT_TRUE(payload.ok());
  std::string tampered = *payload;
  const std::size_t at = tampered.find("540523.50");
  ASSERT_NE(at, std::string::npos) << tampered;
  tampered.replace(at, 9, "540593.50");
  auto code = ReadMerchantQr(tampered);
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.status().message().find("63"), std::string::npos) << code.status().ToString();
}

TEST(MerchantQrTest, AnExpiredDynamicCodeIsRefused) {
  auto payload = MakeDynamicMerchantQr(NoodleShop(), Order(), TestKey());
  ASSERT_TRUE(payload.ok());
  auto code = ReadMerchantQr(*payload);
  ASSERT_TRUE(code.ok());
  const Status verdict = VerifyMerchantQr(*code, TestKey(), 1'795'000'000);
  EXPECT_EQ(verdict.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(verdict.message().find("expiry"), std::string::npos);
}

TEST(MerchantQrTest, ACodeOfAnotherSchemeIsNamedAsSuch) {
  // EMVCo's example shape: a UnionPay primitive in 15, no tapstack template.
  auto other = qr::EncodeMpm(std::vector<qr::MpmObject>{
      qr::MpmObject::Primitive("00", "01"), qr::MpmObject::Primitive("01", "11"),
      qr::MpmObject::Primitive("15", "6200000000000001"), qr::MpmObject::Primitive("52", "5812"),
      qr::MpmObject::Primitive("53", "156"), qr::MpmObject::Primitive("58", "CN"),
      qr::MpmObject::Primitive("59", "Tea House"), qr::MpmObject::Primitive("60", "Shanghai")});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto code = ReadMerchantQr(*other);
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.status().message().find("another scheme"), std::string::npos);
}

TEST(MerchantQrTest, AStaticCodeWithAnAmountIsRefused) {
  auto payload = MakeStaticMerchantQr(NoodleShop(), TestKey());
  ASSERT_TRUE(payload.ok());
  qr::MpmDecoded decoded = qr::DecodeMpm(*payload);
  decoded.objects.insert(decoded.objects.begin() + 5, qr::MpmObject::Primitive("54", "10.00"));
  auto edited = qr::EncodeMpm(decoded.objects, Unvalidated());
  ASSERT_TRUE(edited.ok());
  auto code = ReadMerchantQr(*edited);
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.status().message().find("id 54"), std::string::npos) << code.status().ToString();
}

TEST(MerchantQrTest, BadProfileAndOrderFieldsAreNamed) {
  struct Case {
    std::string field;
    MerchantProfile profile;
  };
  std::vector<Case> cases;
  cases.push_back({"platform_id", NoodleShop()});
  cases.back().profile.platform_id = "Tapstack";
  cases.push_back({"merchant_id", NoodleShop()});
  cases.back().profile.merchant_id = "";
  cases.push_back({"name", NoodleShop()});
  cases.back().profile.name = std::string(26, 'a');
  cases.push_back({"city", NoodleShop()});
  cases.back().profile.city = std::string(16, 'a');
  cases.push_back({"country", NoodleShop()});
  cases.back().profile.country = "XX";
  cases.push_back({"mcc", NoodleShop()});
  cases.back().profile.mcc = "58a4";
  for (const Case& c : cases) {
    auto payload = MakeStaticMerchantQr(c.profile, TestKey());
    ASSERT_FALSE(payload.ok()) << c.field;
    EXPECT_EQ(payload.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(payload.status().message().starts_with(c.field)) << payload.status().ToString();
  }
  DynamicOrder usd = Order();
  usd.amount = Amount(100, Usd());
  EXPECT_TRUE(MakeDynamicMerchantQr(NoodleShop(), usd, TestKey()).status().message().starts_with("amount"));
  DynamicOrder zero = Order(0);
  EXPECT_FALSE(MakeDynamicMerchantQr(NoodleShop(), zero, TestKey()).ok());
  DynamicOrder bad_id = Order();
  bad_id.order_id = "order 1";
  EXPECT_TRUE(MakeDynamicMerchantQr(NoodleShop(), bad_id, TestKey()).status().message().starts_with("order_id"));
  EXPECT_TRUE(MakeStaticMerchantQr(NoodleShop(), crypto::SecretBytes(Bytes(16, 1))).status().message().starts_with("key"));
}

}  // namespace
}  // namespace tapstack::qrpay
