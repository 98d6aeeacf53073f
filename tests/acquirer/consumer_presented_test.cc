// "Show to pay": the phone's secure element makes an ARQC with no amount and a number the phone
// drew, the wallet packs it into an EMVCo consumer-presented QR code with the token; the merchant's
// scanner checks the code (prefix, CPM structure, AID, ARQC, age) and builds the 0100 (DE22 "032",
// DE2/DE14 from 57, DE23 from 5F34, DE55 from template 63).
#include "acquirer/consumer_presented.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "device/secure_element.h"
#include "emv/arqc_engine.h"
#include "emv/card_keys.h"
#include "emv/tlv.h"
#include "link/in_memory_link.h"
#include "qr/cpm.h"

namespace tapstack::acquirer {
namespace {

// IMK-AC of the published CVN-MC-20 vector (tests/vectors/emv_crypto.json); a test key.
constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view kToken = "5413330089600010";
constexpr std::string_view kPsn = "01";
constexpr std::string_view kDevice = "phone-1";
constexpr std::uint64_t kSeed = 7;
constexpr std::int64_t kSecondMillis = 1000;

#define CPM_ASSERT_OK(expr)                                  \
  do {                                                       \
    const ::tapstack::Status cpm_status_ = (expr);           \
    ASSERT_TRUE(cpm_status_.ok()) << cpm_status_.ToString(); \
  } while (false)
#define CPM_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CPM_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(cpm_result_, __LINE__), lhs, expr)
#define CPM_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()

Bytes Hex(std::string_view hex) {
  Result<Bytes> b = HexDecode(hex);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes();
}

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }

// Expects `status` to have `code` and `fragment` in its message, and never the token.
void ExpectRefused(const Status& status, ErrorCode code, std::string_view fragment) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << status.message() << "' lacks '" << fragment << "'";
  EXPECT_EQ(status.message().find(kToken), std::string::npos) << status.message();
}

// The objects of template 61 and of its 63, for reading and editing a decoded code.
qr::CpmObject& Application(qr::CpmDecoded& decoded) {
  for (qr::CpmObject& o : decoded.objects) {
    if (o.tag == 0x61) return o;
  }
  ADD_FAILURE() << "no 61";
  return decoded.objects.front();
}
qr::CpmObject& Transparent(qr::CpmDecoded& decoded) {
  for (qr::CpmObject& o : Application(decoded).children) {
    if (o.tag == 0x63) return o;
  }
  ADD_FAILURE() << "no 63";
  return decoded.objects.front();
}
std::vector<qr::CpmObject>::iterator FindChild(qr::CpmObject& parent, std::uint32_t tag) {
  return std::find_if(parent.children.begin(), parent.children.end(),
                      [tag](const qr::CpmObject& o) { return o.tag == tag; });
}

class ConsumerPresentedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-cpm-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    device::SecureElementOptions options;
    options.data_dir = dir_;
    options.device_id = std::string(kDevice);
    options.clock = &clock_;
    CPM_ASSERT_OK_AND_ASSIGN(se_, device::SecureElement::Open(options));
    // The TSP's side: MK-AC from the IMK, credentials wrapped for this device only.
    CPM_ASSERT_OK_AND_ASSIGN(crypto::SecretBytes mk,
                             emv::DeriveCardMasterKey(Profile(), Imk(), kToken, kPsn));
    device::TokenCredentials c;
    c.token_id = "tok-1";
    c.token_number = std::string(kToken);
    c.expiry_yymm = "2812";
    c.psn = std::string(kPsn);
    c.profile_name = "mc-cvn20";
    c.mode = device::KeyMode::kMasterKey;
    c.icc_master_key = std::move(mk);
    CPM_ASSERT_OK_AND_ASSIGN(crypto::SecretBytes plain, device::EncodeTokenCredentials(c));
    CPM_ASSERT_OK_AND_ASSIGN(
        Bytes blob, crypto::WrapForDevice(se_->public_key(), se_->device_id(), "tok-1", plain));
    CPM_ASSERT_OK(se_->InstallToken("tok-1", blob));
  }
  void TearDown() override {
    se_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static crypto::SecretBytes Imk() { return crypto::SecretBytes(Hex(kTestImk)); }

  Result<std::string> Code(ConsumerCodeOptions options = {}, bool biometric = true) {
    if (biometric) se_->BiometricVerified();
    if (options.random == nullptr) options.random = &random_;
    return MakeConsumerPresentedCode(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); }, clock_, options);
  }

  // `text` decoded, edited by `edit`, encoded again (without validation: edits may break it).
  static std::string Edited(std::string_view text,
                            const std::function<void(qr::CpmDecoded&)>& edit) {
    qr::CpmDecoded decoded = qr::DecodeCpm(text);
    EXPECT_TRUE(decoded.valid()) << decoded.status().ToString();
    edit(decoded);
    Result<std::string> encoded = qr::EncodeCpm(decoded.objects, {.validate = false});
    EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
    return encoded.ok() ? *encoded : std::string();
  }

  Amount Sale() const { return Amount(23'50, Cny()); }
  std::int64_t Now() const { return clock_.NowUnixMillis(); }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01T00:00:00Z
  SeededRandom random_{kSeed};
  std::unique_ptr<device::SecureElement> se_;
};

TEST_F(ConsumerPresentedTest, CodeCarriesTheTokenAndAnArqcForAnUnknownAmount) {
  clock_.AdvanceMillis(((13 * 60 + 45) * 60 + 7) * kSecondMillis);  // 13:45:07 UTC
  CPM_ASSERT_OK_AND_ASSIGN(const std::string text, Code());
  EXPECT_EQ(text.substr(0, 7), "hQVDUFY");
  qr::CpmDecoded decoded = qr::DecodeCpm(text);
  ASSERT_TRUE(decoded.valid()) << decoded.status().ToString();
  ASSERT_EQ(decoded.objects.size(), 2u);
  EXPECT_EQ(decoded.objects[0].tag, 0x85u);
  EXPECT_EQ(std::string(decoded.objects[0].value.begin(), decoded.objects[0].value.end()), "CPV01");
  qr::CpmObject& app = Application(decoded);
  // 4F: the token's applet (Mastercard AID + install suffix); 57: the token, never a PAN (5A).
  ASSERT_NE(app.Find(0x4F), nullptr);
  EXPECT_EQ(HexEncode(app.Find(0x4F)->value).substr(0, 14), "A0000000041010");
  ASSERT_NE(app.Find(0x57), nullptr);
  EXPECT_EQ(HexEncode(app.Find(0x57)->value).substr(0, 21), std::string(kToken) + "D2812");
  EXPECT_EQ(app.Find(0x5A), nullptr);
  EXPECT_EQ(HexEncode(app.Find(0x5F34)->value), "01");
  EXPECT_EQ(app.Find(0x50), nullptr);    // no label asked for
  EXPECT_EQ(app.Find(0x9F25), nullptr);  // no PAN digits given

  // 63: the kernel's DE55 with 9F02 = 0, the phone's own 9F37, today and the time of day.
  const qr::CpmObject& t = Transparent(decoded);
  for (std::uint32_t tag :
       {0x9F26u, 0x9F27u, 0x9F10u, 0x9F37u, 0x9F36u, 0x95u, 0x9Au, 0x9Cu, 0x9F02u, 0x5F2Au, 0x82u,
        0x9F1Au, 0x9F03u, 0x9F33u, 0x9F34u, 0x9F35u, 0x84u, 0x9F21u}) {
    EXPECT_NE(t.Find(tag), nullptr) << std::hex << tag;
  }
  EXPECT_EQ(HexEncode(t.Find(0x9F02)->value), "000000000000");
  EXPECT_EQ(HexEncode(t.Find(0x5F2A)->value), "0156");
  EXPECT_EQ(HexEncode(t.Find(0x9A)->value), "260101");
  EXPECT_EQ(HexEncode(t.Find(0x9F21)->value), "134507");
  EXPECT_EQ(HexEncode(t.Find(0x9F27)->value), "80");
  SeededRandom same(kSeed);
  Bytes expected_un(4);
  CPM_ASSERT_OK(same.Fill(expected_un));
  EXPECT_EQ(t.Find(0x9F37)->value, expected_un);

  // The issuer's check of the ARQC passes; it covers 9A (a changed date fails) but not 9F21
  // (a changed time still verifies: the header says so, and the ATC makes the code single use).
  CPM_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer, emv::ArqcEngine::Create(Profile(), Imk()));
  emv::TagValues tags;
  for (const qr::CpmObject& o : t.children) CPM_ASSERT_OK(tags.Set(o.tag, o.value));
  emv::ArqcInput in;
  in.pan = kToken;
  in.psn = kPsn;
  in.atc = static_cast<std::uint16_t>(BytesToUint(t.Find(0x9F36)->value));
  in.iad = t.Find(0x9F10)->value;
  in.tags = emv::TagSources{&tags};
  crypto::ApplicationCryptogram arqc{};
  std::copy_n(t.Find(0x9F26)->value.begin(), arqc.size(), arqc.begin());
  CPM_ASSERT_OK(issuer.VerifyArqc(in, arqc));
  CPM_ASSERT_OK(tags.Set(0x9F21, Hex("000000")));
  CPM_ASSERT_OK(issuer.VerifyArqc(in, arqc));
  CPM_ASSERT_OK(tags.Set(0x9A, Hex("260102")));
  EXPECT_FALSE(issuer.VerifyArqc(in, arqc).ok());

  // Each code spends its own ATC.
  CPM_ASSERT_OK_AND_ASSIGN(const std::string next, Code());
  qr::CpmDecoded next_decoded = qr::DecodeCpm(next);
  EXPECT_EQ(BytesToUint(Transparent(next_decoded).Find(0x9F36)->value),
            BytesToUint(t.Find(0x9F36)->value) + 1);
}

TEST_F(ConsumerPresentedTest, OptionsAddLabelAndPanDigitsAndAreChecked) {
  ConsumerCodeOptions options;
  options.application_label = "TAPSTACK DEBIT";
  options.pan_last4 = "0043";
  options.currency = &Usd();
  options.country_numeric = 840;
  CPM_ASSERT_OK_AND_ASSIGN(const std::string text, Code(options));
  qr::CpmDecoded decoded = qr::DecodeCpm(text);
  ASSERT_TRUE(decoded.valid()) << decoded.status().ToString();
  const qr::CpmObject& app = Application(decoded);
  EXPECT_EQ(std::string(app.Find(0x50)->value.begin(), app.Find(0x50)->value.end()),
            "TAPSTACK DEBIT");
  EXPECT_EQ(HexEncode(app.Find(0x9F25)->value), "0043");
  EXPECT_EQ(HexEncode(Transparent(decoded).Find(0x5F2A)->value), "0840");
  EXPECT_EQ(HexEncode(Transparent(decoded).Find(0x9F1A)->value), "0840");

  ConsumerCodeOptions bad;
  bad.application_label = "A LABEL LONGER THAN 16";
  ExpectRefused(Code(bad).status(), ErrorCode::kInvalidArgument, "options.application_label");
  bad = {};
  bad.pan_last4 = "43";
  ExpectRefused(Code(bad).status(), ErrorCode::kInvalidArgument, "options.pan_last4");
  bad = {};
  bad.country_numeric = 0;
  ExpectRefused(Code(bad).status(), ErrorCode::kInvalidArgument, "options.country_numeric");
  bad = {};
  bad.currency = nullptr;
  ExpectRefused(Code(bad).status(), ErrorCode::kInvalidArgument, "options.currency");
}

TEST_F(ConsumerPresentedTest, NoBiometricCheckNoCode) {
  const Result<std::string> code = Code({}, /*biometric=*/false);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), ErrorCode::kFailedPrecondition) << code.status().ToString();
}

TEST_F(ConsumerPresentedTest, ScannerBuildsAConsumerQrPurchase) {
  CPM_ASSERT_OK_AND_ASSIGN(const std::string text, Code());
  CPM_ASSERT_OK_AND_ASSIGN(const Purchase p, ConsumerPresentedPurchase(text, Sale(), Now()));
  EXPECT_EQ(p.pan, kToken);
  EXPECT_EQ(p.expiry, "2812");
  EXPECT_EQ(p.amount, Sale());
  EXPECT_EQ(p.entry, EntryMode::kConsumerQr);
  EXPECT_EQ(p.card_sequence_number, "001");
  EXPECT_TRUE(p.token_data.empty());
  // DE55 is template 63, object for object.
  qr::CpmDecoded decoded = qr::DecodeCpm(text);
  Bytes expected;
  for (const qr::CpmObject& o : Transparent(decoded).children) {
    CPM_ASSERT_OK(emv::AppendTlv(expected, o.tag, o.value));
  }
  EXPECT_EQ(HexEncode(AsBytes(p.icc_data)), HexEncode(expected));

  // The 0100 a terminal builds from it: DE22 "032" (bar code), DE25 "00", no DE48.
  struct NoPeer final : link::MessageHandler {
    void OnRequest(iso8583::Message, link::Reply) override {}
  } peer;
  link::InMemoryLink link(peer);
  TerminalConfig config;
  config.terminal_id = "TNOODLE1";
  config.merchant_id = "NOODLESHOP00001";
  config.name_location = "Noodle shop Beijing";
  config.mcc = "5814";
  config.acquirer_id = "48100000";
  PosTerminal terminal(config, link, clock_);
  const iso8583::Message m = terminal.BuildRequest(p, "000042");
  EXPECT_EQ(m.mti(), "0100");
  EXPECT_EQ(m.Get(2), std::optional<std::string_view>(kToken));
  EXPECT_EQ(m.Get(4), std::optional<std::string_view>("000000002350"));
  EXPECT_EQ(m.Get(14), std::optional<std::string_view>("2812"));
  EXPECT_EQ(m.Get(22), std::optional<std::string_view>("032"));
  EXPECT_EQ(m.Get(23), std::optional<std::string_view>("001"));
  EXPECT_EQ(m.Get(25), std::optional<std::string_view>("00"));
  EXPECT_FALSE(m.Has(48));
  EXPECT_EQ(m.Get(49), std::optional<std::string_view>("156"));
  EXPECT_EQ(m.Get(55), std::optional<std::string_view>(p.icc_data));
}

TEST_F(ConsumerPresentedTest, ScannerRefusesStaleAndFutureCodes) {
  CPM_ASSERT_OK_AND_ASSIGN(const std::string text, Code());
  const std::int64_t made = Now();
  EXPECT_TRUE(ConsumerPresentedPurchase(text, Sale(), made + 60 * kSecondMillis).ok());
  ExpectRefused(ConsumerPresentedPurchase(text, Sale(), made + 61 * kSecondMillis).status(),
                ErrorCode::kFailedPrecondition, "made 61 s ago");
  EXPECT_TRUE(ConsumerPresentedPurchase(text, Sale(), made - 10 * kSecondMillis).ok());
  ExpectRefused(ConsumerPresentedPurchase(text, Sale(), made - 11 * kSecondMillis).status(),
                ErrorCode::kFailedPrecondition, "ahead of the scanner's clock");
  // A merchant may choose a shorter validity.
  ConsumerScanOptions strict;
  strict.validity_seconds = 30;
  ExpectRefused(ConsumerPresentedPurchase(text, Sale(), made + 31 * kSecondMillis, strict).status(),
                ErrorCode::kFailedPrecondition, "valid for 30 s");
  // 9F21 that is not a time of day.
  const std::string bad_time = Edited(
      text, [](qr::CpmDecoded& d) { FindChild(Transparent(d), 0x9F21)->value = Hex("246000"); });
  ExpectRefused(ConsumerPresentedPurchase(bad_time, Sale(), made).status(),
                ErrorCode::kInvalidArgument, "9A/9F21");
}

TEST_F(ConsumerPresentedTest, ScannerRefusesMalformedCodesNamingTheTag) {
  CPM_ASSERT_OK_AND_ASSIGN(const std::string text, Code());
  const std::int64_t now = Now();
  auto scan = [&](std::string_view code, const Amount& amount) {
    return ConsumerPresentedPurchase(code, amount, now).status();
  };
  // Not a CPM code at all; the prefix with broken base64; an amount the terminal cannot send.
  ExpectRefused(scan("281234567890123456", Sale()), ErrorCode::kInvalidArgument, "hQVDUFY");
  ExpectRefused(scan("hQVDUFYw!!", Sale()), ErrorCode::kInvalidArgument, "code: ");
  ExpectRefused(scan(text, Amount(0, Cny())), ErrorCode::kInvalidArgument, "amount");

  // An AID this merchant does not take (Visa only).
  ConsumerScanOptions visa_only;
  visa_only.accepted_aids = {Hex("A0000000031010")};
  ExpectRefused(ConsumerPresentedPurchase(text, Sale(), now, visa_only).status(),
                ErrorCode::kInvalidArgument, "61.4F");

  // The sale in another currency than the code's 5F2A; 9F02 set to another amount.
  ExpectRefused(scan(text, Amount(23'50, Usd())), ErrorCode::kInvalidArgument, "61.63.5F2A");
  const std::string other_amount = Edited(text, [](qr::CpmDecoded& d) {
    FindChild(Transparent(d), 0x9F02)->value = Hex("000000009999");
  });
  ExpectRefused(scan(other_amount, Sale()), ErrorCode::kInvalidArgument, "61.63.9F02");
  // 9F02 equal to the sale's amount is accepted (a wallet that knew it).
  const std::string same_amount = Edited(text, [](qr::CpmDecoded& d) {
    FindChild(Transparent(d), 0x9F02)->value = Hex("000000002350");
  });
  EXPECT_TRUE(ConsumerPresentedPurchase(same_amount, Sale(), now).ok());

  // No cryptogram; an AAC; a short ATC; a DF name that is not the template's AID.
  const std::string no_ac = Edited(text, [](qr::CpmDecoded& d) {
    Transparent(d).children.erase(FindChild(Transparent(d), 0x9F26));
  });
  ExpectRefused(scan(no_ac, Sale()), ErrorCode::kInvalidArgument, "61.63.9F26");
  const std::string aac =
      Edited(text, [](qr::CpmDecoded& d) { FindChild(Transparent(d), 0x9F27)->value = Hex("00"); });
  ExpectRefused(scan(aac, Sale()), ErrorCode::kInvalidArgument, "61.63.9F27");
  const std::string short_atc =
      Edited(text, [](qr::CpmDecoded& d) { FindChild(Transparent(d), 0x9F36)->value = Hex("01"); });
  ExpectRefused(scan(short_atc, Sale()), ErrorCode::kInvalidArgument, "61.63.9F36");
  const std::string other_df = Edited(text, [](qr::CpmDecoded& d) {
    FindChild(Transparent(d), 0x84)->value = Hex("A0000000041010FFFF");
  });
  ExpectRefused(scan(other_df, Sale()), ErrorCode::kInvalidArgument, "61.63.84");
  const std::string twice = Edited(text, [](qr::CpmDecoded& d) {
    Transparent(d).children.push_back(*FindChild(Transparent(d), 0x9F37));
  });
  ExpectRefused(scan(twice, Sale()), ErrorCode::kInvalidArgument, "61.63.9F37");
  const std::string no_63 = Edited(text, [](qr::CpmDecoded& d) {
    Application(d).children.erase(FindChild(Application(d), 0x63));
  });
  ExpectRefused(scan(no_63, Sale()), ErrorCode::kInvalidArgument, "61.63");

  // 57 with a wrong Luhn digit, or a month 13.
  const std::string bad_luhn = Edited(text, [](qr::CpmDecoded& d) {
    FindChild(Application(d), 0x57)->value[7] ^= 0x01;  // last token digit
  });
  ExpectRefused(scan(bad_luhn, Sale()), ErrorCode::kInvalidArgument, "61.57");
  const std::string bad_month = Edited(text, [](qr::CpmDecoded& d) {
    FindChild(Application(d), 0x57)->value[9] = 0x13;  // D2 13 22...: YYMM 2132
  });
  ExpectRefused(scan(bad_month, Sale()), ErrorCode::kInvalidArgument, "61.57");
}

}  // namespace
}  // namespace tapstack::acquirer
