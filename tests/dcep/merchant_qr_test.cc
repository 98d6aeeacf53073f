// The e-CNY merchant QR payload (dcep/merchant_qr.h): layout, round trip, CRC, MAC against edited
// fields, expiry, static vs dynamic, and a field-named error for every way a scanned code is bad.
#include "dcep/merchant_qr.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "qr/crc16.h"
#include "qr/mpm.h"

namespace tapstack::dcep {
namespace {

constexpr std::int64_t kNow = 1'767'233'000;  // 2026-01-01, unix seconds

const crypto::SecretBytes& Key() {
  static const crypto::SecretBytes key(Bytes(32, 0x42));
  return key;
}

MerchantQr StaticCode() {
  MerchantQr code;
  code.operator_id = "icbc";
  code.merchant_id = "m-beijing-coffee";
  code.mcc = "5814";
  code.name = "Beijing Coffee Roasters";
  code.city = "Beijing";
  return code;
}

MerchantQr DynamicCode() {
  MerchantQr code = StaticCode();
  code.dynamic = true;
  code.amount_fen = 2'600;
  code.order_id = "A1024";
  code.expires_unix_s = kNow + 300;
  return code;
}

std::string Encode(const MerchantQr& code) {
  Result<std::string> payload = EncodeMerchantQr(code, Key());
  EXPECT_TRUE(payload.ok()) << payload.status().ToString();
  return payload.ok() ? *payload : std::string();
}

// The payload with one object changed (or removed, when `edit` returns false) and a fresh CRC,
// encoded without validation: what an attacker or a broken printer produces.
using Edit = std::function<bool(qr::MpmObject&)>;
std::string Edited(const std::string& payload, const std::string& path, const Edit& edit) {
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  EXPECT_TRUE(decoded.valid()) << decoded.status().ToString();
  std::vector<qr::MpmObject>* level = &decoded.objects;
  std::string id = path.substr(0, 2);
  if (path.size() > 2) {
    for (qr::MpmObject& o : decoded.objects) {
      if (o.id == id) level = &o.children;
    }
    id = path.substr(3, 2);
  }
  bool found = false;
  for (auto it = level->begin(); it != level->end(); ++it) {
    if (it->id != id) continue;
    found = true;
    if (!edit(*it)) level->erase(it);
    break;
  }
  EXPECT_TRUE(found) << path;
  qr::MpmEncodeOptions options;
  options.validate = false;
  Result<std::string> out = qr::EncodeMpm(decoded.objects, options);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string();
}
Edit Set(std::string value) {
  return [value](qr::MpmObject& o) {
    o.value = value;
    return true;
  };
}
bool Remove(qr::MpmObject&) { return false; }

// An object appended before 63 (EncodeMpm puts the CRC last).
std::string WithExtra(const std::string& payload, qr::MpmObject extra) {
  qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  decoded.objects.push_back(std::move(extra));
  qr::MpmEncodeOptions options;
  options.validate = false;
  return *qr::EncodeMpm(decoded.objects, options);
}

TEST(MerchantQrTest, DynamicCodeLayoutFollowsEmvcoMpm) {
  const std::string payload = Encode(DynamicCode());
  EXPECT_EQ(payload.rfind("000201010212", 0), 0u) << payload;  // 00 "01", 01 "12"
  EXPECT_NE(payload.find("2648" "0016cn.tapstack.dcep" "0104icbc" "0216m-beijing-coffee"),
            std::string::npos)
      << payload;
  for (const char* object : {"52045814", "5303156", "540526.00", "5802CN",
                             "5923Beijing Coffee Roasters", "6007Beijing", "62090105A1024"}) {
    EXPECT_NE(payload.find(object), std::string::npos) << object << " in " << payload;
  }
  // 63 last, CRC-16/CCITT-FALSE over everything up to and including "6304" (MPM §4.7.3).
  ASSERT_GE(payload.size(), 8u);
  EXPECT_EQ(payload.substr(payload.size() - 8, 4), "6304");
  EXPECT_EQ(payload.substr(payload.size() - 4),
            qr::FormatCrc16(qr::Crc16CcittFalse(std::string_view(payload).substr(0, payload.size() - 4))));
}

// Known answer computed outside tapstack (Python: hmac/hashlib for the MAC over the documented
// MerchantQrMacInput, binascii.crc_hqx(payload, 0xFFFF) for the CRC), key 32 x 0x5A.
TEST(MerchantQrTest, MatchesAnIndependentEncoding) {
  MerchantQr code = DynamicCode();
  code.expires_unix_s = 1'767'233'300;
  EXPECT_EQ(*EncodeMerchantQr(code, crypto::SecretBytes(Bytes(32, 0x5A))),
            "00020101021226480016cn.tapstack.dcep0104icbc0216m-beijing-coffee52045814530315654"
            "0526.005802CN5923Beijing Coffee Roasters6007Beijing62090105A102480540016cn.tapstack."
            "dcep011017672333000216B4E16B6C9D563F3B6304A12D");
}

TEST(MerchantQrTest, DynamicRoundTripAndVerify) {
  const MerchantQr code = DynamicCode();
  const std::string payload = Encode(code);
  Result<MerchantQr> read = ParseMerchantQr(payload);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->dynamic);
  EXPECT_EQ(read->operator_id, "icbc");
  EXPECT_EQ(read->merchant_id, "m-beijing-coffee");
  EXPECT_EQ(read->mcc, "5814");
  EXPECT_EQ(read->name, "Beijing Coffee Roasters");
  EXPECT_EQ(read->city, "Beijing");
  EXPECT_EQ(read->amount_fen, 2'600);
  EXPECT_EQ(read->order_id, "A1024");
  EXPECT_EQ(read->expires_unix_s, kNow + 300);
  EXPECT_EQ(read->mac_hex.size(), kMerchantQrMacHexDigits);
  EXPECT_TRUE(VerifyMerchantQr(*read, Key(), kNow).ok());
  // Encoding what was read gives the same payload back.
  EXPECT_EQ(Encode(*read), payload);
}

TEST(MerchantQrTest, StaticCodeHasNoAmountOrderOrExpiryAndNeverExpires) {
  const std::string payload = Encode(StaticCode());
  EXPECT_EQ(payload.rfind("000201010211", 0), 0u) << payload;
  EXPECT_EQ(payload.find("5405"), std::string::npos);
  Result<MerchantQr> read = ParseMerchantQr(payload);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->dynamic);
  EXPECT_EQ(read->amount_fen, 0);
  EXPECT_TRUE(read->order_id.empty());
  EXPECT_EQ(read->expires_unix_s, 0);
  EXPECT_EQ(qr::DecodeMpm(payload).Find("62"), nullptr);
  EXPECT_TRUE(VerifyMerchantQr(*read, Key(), kNow + 10 * 365 * 86'400).ok());
}

TEST(MerchantQrTest, AmountsWithFewerDecimalsReadAsFen) {
  const std::string payload = Encode(DynamicCode());
  for (const auto& [text, fen] : std::vector<std::pair<std::string, std::int64_t>>{
           {"26", 2'600}, {"26.", 2'600}, {"26.5", 2'650}, {"0.01", 1}}) {
    Result<MerchantQr> read = ParseMerchantQr(Edited(payload, "54", Set(text)));
    ASSERT_TRUE(read.ok()) << text << ": " << read.status().ToString();
    EXPECT_EQ(read->amount_fen, fen) << text;
  }
}

TEST(MerchantQrTest, ChineseNameCountsCharactersNotBytes) {
  MerchantQr code = StaticCode();
  code.name = "北京咖啡烘焙";
  code.city = "北京";
  const std::string payload = Encode(code);
  EXPECT_NE(payload.find("5906北京咖啡烘焙"), std::string::npos) << payload;
  EXPECT_NE(payload.find("6002北京"), std::string::npos) << payload;
  Result<MerchantQr> read = ParseMerchantQr(payload);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->name, code.name);
  EXPECT_TRUE(VerifyMerchantQr(*read, Key(), kNow).ok());
}

TEST(MerchantQrTest, ABrokenCrcIsRefusedAtId63) {
  std::string payload = Encode(DynamicCode());
  payload[payload.find("540526.00") + 4] = '9';  // amount edited, CRC left as it was
  Result<MerchantQr> read = ParseMerchantQr(payload);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(read.status().message().rfind("id 63", 0), 0u) << read.status().message();
  EXPECT_NE(read.status().message().find("CRC"), std::string::npos);
  // Lower-case CRC digits are accepted (MPM does not address case; domain note §1.1).
  std::string lower = Encode(DynamicCode());
  for (std::size_t i = lower.size() - 4; i < lower.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i])));
  }
  EXPECT_TRUE(ParseMerchantQr(lower).ok());
}

TEST(MerchantQrTest, TheMacRefusesEveryEditedFieldEvenWithAFreshCrc) {
  const std::string payload = Encode(DynamicCode());
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"54", "2.60"},                // amount
      {"26.02", "m-shenzhen-grocer"},  // merchant: the money would go elsewhere
      {"26.01", "ccb"},              // operator
      {"62.01", "A1025"},            // order
      {"80.01", std::to_string(kNow + 86'400)},  // expiry pushed out
      {"59", "Cheap Coffee"},        // the name the payer sees
      {"52", "5411"},                // MCC
  };
  for (const auto& [path, value] : edits) {
    Result<MerchantQr> read = ParseMerchantQr(Edited(payload, path, Set(value)));
    ASSERT_TRUE(read.ok()) << path << ": " << read.status().ToString();
    const Status s = VerifyMerchantQr(*read, Key(), kNow);
    EXPECT_EQ(s.code(), ErrorCode::kCryptoFailure) << path;
    EXPECT_EQ(s.message().rfind("mac: the code was altered", 0), 0u) << s.message();
  }
  // A static code turned into a dynamic one (an amount and order added) is refused too.
  const std::string fixed = Encode(StaticCode());
  Result<MerchantQr> read = ParseMerchantQr(fixed);
  ASSERT_TRUE(read.ok());
  read->mcc = "5999";
  EXPECT_EQ(VerifyMerchantQr(*read, Key(), kNow).code(), ErrorCode::kCryptoFailure);
  // Another operator's key does not verify a genuine code.
  Result<MerchantQr> genuine = ParseMerchantQr(payload);
  ASSERT_TRUE(genuine.ok());
  EXPECT_EQ(VerifyMerchantQr(*genuine, crypto::SecretBytes(Bytes(32, 0x43)), kNow).code(),
            ErrorCode::kCryptoFailure);
}

TEST(MerchantQrTest, ADynamicCodeExpires) {
  Result<MerchantQr> read = ParseMerchantQr(Encode(DynamicCode()));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(VerifyMerchantQr(*read, Key(), kNow + 299).ok());
  const Status expired = VerifyMerchantQr(*read, Key(), kNow + 300);
  EXPECT_EQ(expired.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(expired.message().rfind("expires_unix_s: the code expired at", 0), 0u)
      << expired.message();
}

TEST(MerchantQrTest, EveryParseErrorNamesItsObject) {
  const std::string dynamic = Encode(DynamicCode());
  const std::string fixed = Encode(StaticCode());
  struct Case {
    std::string what;
    std::string payload;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"not a QR payload", "hello", "offset 0:"},
      {"empty", "", "offset 0:"},
      {"another scheme", Edited(dynamic, "26.00", Set("com.example.pay")), "id 26:"},
      {"no point of initiation", Edited(dynamic, "01", Remove), "id 01:"},
      {"operator upper case", Edited(dynamic, "26.01", Set("ICBC")), "id 26.01:"},
      {"no operator", Edited(dynamic, "26.01", Remove), "id 26.01:"},
      {"no merchant", Edited(dynamic, "26.02", Remove), "id 26.02:"},
      {"merchant with a space", Edited(dynamic, "26.02", Set("m beijing")), "id 26.02:"},
      {"MCC not digits", Edited(dynamic, "52", Set("58A4")), "id 52"},
      {"not CNY", Edited(dynamic, "53", Set("840")), "id 53:"},
      {"not CN", Edited(dynamic, "58", Set("HK")), "id 58:"},
      {"name too long", Edited(dynamic, "59", Set(std::string(26, 'N'))), "id 59:"},
      {"name with a control character", Edited(dynamic, "59", Set("Coffee\x1F")), "id 59:"},
      {"city too long", Edited(dynamic, "60", Set(std::string(16, 'C'))), "id 60:"},
      {"dynamic without amount", Edited(dynamic, "54", Remove), "id 54:"},
      {"amount with a comma", Edited(dynamic, "54", Set("26,00")), "id 54"},
      {"amount with 3 decimals", Edited(dynamic, "54", Set("26.001")), "id 54"},
      {"amount zero", Edited(dynamic, "54", Set("0.00")), "id 54"},
      {"static with amount", WithExtra(fixed, qr::MpmObject::Primitive("54", "1.00")), "id 54:"},
      {"dynamic without order", Edited(dynamic, "62", Remove), "id 62.01:"},
      {"order with a space", Edited(dynamic, "62.01", Set("A 1")), "id 62.01:"},
      {"static with order",
       WithExtra(fixed, qr::MpmObject::Template("62", {qr::MpmObject::Primitive("01", "A1")})),
       "id 62.01:"},
      {"no MAC template", Edited(dynamic, "80", Remove), "id 80:"},
      {"dynamic without expiry", Edited(dynamic, "80.01", Remove), "id 80.01:"},
      {"expiry not digits", Edited(dynamic, "80.01", Set("soon")), "id 80.01:"},
      {"expiry zero", Edited(dynamic, "80.01", Set("0")), "id 80.01:"},
      {"static with expiry",
       Edited(fixed, "80", [](qr::MpmObject& o) {
         o.children.insert(o.children.begin() + 1, qr::MpmObject::Primitive("01", "123"));
         return true;
       }),
       "id 80.01:"},
      {"no MAC", Edited(dynamic, "80.02", Remove), "id 80.02:"},
      {"MAC not hex", Edited(dynamic, "80.02", Set("ZZZZZZZZZZZZZZZZ")), "id 80.02:"},
      {"MAC too short", Edited(dynamic, "80.02", Set("ABCD")), "id 80.02:"},
  };
  for (const Case& c : cases) {
    Result<MerchantQr> read = ParseMerchantQr(c.payload);
    ASSERT_FALSE(read.ok()) << c.what;
    EXPECT_EQ(read.status().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_EQ(read.status().message().rfind(c.prefix, 0), 0u)
        << c.what << ": " << read.status().message();
  }
}

TEST(MerchantQrTest, EncodeErrorsNameTheField) {
  struct Case {
    std::string what;
    std::function<void(MerchantQr&)> edit;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"operator", [](MerchantQr& c) { c.operator_id = "ICBC"; }, "operator_id:"},
      {"merchant too long",
       [](MerchantQr& c) { c.merchant_id = std::string(kQrMerchantIdBytesMax + 1, 'm'); },
       "merchant_id:"},
      {"mcc", [](MerchantQr& c) { c.mcc = "581"; }, "mcc:"},
      {"name", [](MerchantQr& c) { c.name = std::string(26, 'N'); }, "name:"},
      {"city", [](MerchantQr& c) { c.city = ""; }, "city:"},
      {"amount", [](MerchantQr& c) { c.amount_fen = 0; }, "amount_fen:"},
      {"amount too large", [](MerchantQr& c) { c.amount_fen = kQrAmountFenMax + 1; },
       "amount_fen:"},
      {"order", [](MerchantQr& c) { c.order_id = ""; }, "order_id:"},
      {"expiry", [](MerchantQr& c) { c.expires_unix_s = 0; }, "expires_unix_s:"},
      {"static with amount",
       [](MerchantQr& c) {
         c.dynamic = false;
         c.order_id.clear();
         c.expires_unix_s = 0;
       },
       "amount_fen:"},
  };
  for (const Case& c : cases) {
    MerchantQr code = DynamicCode();
    c.edit(code);
    Result<std::string> payload = EncodeMerchantQr(code, Key());
    ASSERT_FALSE(payload.ok()) << c.what;
    EXPECT_EQ(payload.status().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_EQ(payload.status().message().rfind(c.prefix, 0), 0u)
        << c.what << ": " << payload.status().message();
  }
  // The longest merchant id still fits template 26 with the longest operator id.
  MerchantQr longest = DynamicCode();
  longest.operator_id = std::string(16, 'o');
  longest.merchant_id = std::string(kQrMerchantIdBytesMax, 'm');
  EXPECT_TRUE(EncodeMerchantQr(longest, Key()).ok());
  const Result<std::string> short_key = EncodeMerchantQr(DynamicCode(), crypto::SecretBytes(Bytes(16, 1)));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().message().rfind("key:", 0), 0u);
}

TEST(MerchantQrTest, FitMerchantQrTextCutsAtCharacters) {
  EXPECT_EQ(FitMerchantQrText("Chengdu Longquanyi Tutoring", 25), "Chengdu Longquanyi Tutori");
  EXPECT_EQ(FitMerchantQrText("Beijing Coffee", 25), "Beijing Coffee");
  EXPECT_EQ(FitMerchantQrText("Suzhou Metro Kiosk", 13), "Suzhou Metro");  // trailing space dropped
  EXPECT_EQ(FitMerchantQrText("北京咖啡烘焙", 4), "北京咖啡");
}

TEST(MerchantQrTest, MacInputIsUnambiguous) {
  MerchantQr a = StaticCode();
  MerchantQr b = StaticCode();
  a.name = "Coffee|5:X";
  b.name = "Coffee";
  b.city = "X";
  a.city = "Beijing";
  EXPECT_NE(MerchantQrMacInput(a), MerchantQrMacInput(b));
  EXPECT_EQ(MerchantQrMacInput(StaticCode()).rfind("tapstack-dcep-mpm-v1|2:11|4:icbc|", 0), 0u)
      << MerchantQrMacInput(StaticCode());
}

}  // namespace
}  // namespace tapstack::dcep
