// In-app payment: the phone's secure element makes the cryptogram for the merchant's order
// (amount, currency, the merchant's unpredictable number), the merchant checks the JSON payment
// data against its order and builds the 0100 (DE22 "092", DE23, DE48 DI/TR, DE55).
#include "acquirer/in_app_payment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "device/secure_element.h"
#include "emv/arqc_engine.h"
#include "emv/card_keys.h"
#include "emv/tlv.h"
#include "iso8583/token_data.h"
#include "link/in_memory_link.h"

namespace tapstack::acquirer {
namespace {

using nlohmann::json;

// IMK-AC of the published CVN-MC-20 vector (tests/vectors/emv_crypto.json); a test key.
constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view kToken = "5413330089600010";
constexpr std::string_view kPsn = "01";
constexpr std::string_view kDevice = "phone-1";
constexpr std::string_view kTrid = "40010000001";
constexpr std::string_view kNumber = "A1B2C3D4";

#define IN_APP_ASSERT_OK(expr)                                     \
  do {                                                             \
    const ::tapstack::Status in_app_status_ = (expr);              \
    ASSERT_TRUE(in_app_status_.ok()) << in_app_status_.ToString(); \
  } while (false)
#define IN_APP_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  IN_APP_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(in_app_result_, __LINE__), lhs, expr)
#define IN_APP_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();       \
  lhs = std::move(tmp).value()

Bytes Hex(std::string_view hex) {
  Result<Bytes> b = HexDecode(hex);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes();
}

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }

// Expects `status` to be kInvalidArgument with `fragment` in its message.
void ExpectRefused(const Status& status, std::string_view fragment) {
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << status.message() << "' lacks '" << fragment << "'";
}

class InAppPaymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-in-app-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    device::SecureElementOptions options;
    options.data_dir = dir_;
    options.device_id = std::string(kDevice);
    options.clock = &clock_;
    IN_APP_ASSERT_OK_AND_ASSIGN(se_, device::SecureElement::Open(options));
    // The TSP's side: MK-AC from the IMK, credentials wrapped for this device only.
    IN_APP_ASSERT_OK_AND_ASSIGN(crypto::SecretBytes mk,
                                emv::DeriveCardMasterKey(Profile(), Imk(), kToken, kPsn));
    device::TokenCredentials c;
    c.token_id = "tok-1";
    c.token_number = std::string(kToken);
    c.expiry_yymm = "2812";
    c.psn = std::string(kPsn);
    c.profile_name = "mc-cvn20";
    c.mode = device::KeyMode::kMasterKey;
    c.icc_master_key = std::move(mk);
    IN_APP_ASSERT_OK_AND_ASSIGN(crypto::SecretBytes plain, device::EncodeTokenCredentials(c));
    IN_APP_ASSERT_OK_AND_ASSIGN(
        Bytes blob, crypto::WrapForDevice(se_->public_key(), se_->device_id(), "tok-1", plain));
    IN_APP_ASSERT_OK(se_->InstallToken("tok-1", blob));
  }
  void TearDown() override {
    se_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static crypto::SecretBytes Imk() { return crypto::SecretBytes(Hex(kTestImk)); }

  static InAppOrder Order(std::int64_t fen = 50'00, std::string_view number = kNumber) {
    InAppOrder order;
    order.merchant_name = "Beijing Transit top-up";
    order.amount = Amount(fen, Cny());
    order.unpredictable_number_hex = std::string(number);
    order.device_id = std::string(kDevice);
    order.requestor_id = std::string(kTrid);
    return order;
  }

  Result<json> Pay(const InAppOrder& order, bool biometric = true) {
    if (biometric) se_->BiometricVerified();
    return MakeInAppPayment(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); }, clock_, order);
  }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01
  std::unique_ptr<device::SecureElement> se_;
};

TEST_F(InAppPaymentTest, CryptogramCoversTheMerchantsNumberAndAmount) {
  IN_APP_ASSERT_OK_AND_ASSIGN(const json payment, Pay(Order()));
  EXPECT_EQ(payment.at("type"), "emv");
  EXPECT_EQ(payment.at("token"), kToken);
  EXPECT_EQ(payment.at("token_expiry"), "2812");
  EXPECT_EQ(payment.at("psn"), "01");
  EXPECT_EQ(payment.at("device_id"), kDevice);
  EXPECT_EQ(payment.at("requestor_id"), kTrid);

  // DE55: the merchant's number, not one the kernel chose; the order's amount; today; in-app
  // terminal type 34 (cardholder-operated, online only).
  const Bytes icc = Hex(payment.at("emv_data").get<std::string>());
  IN_APP_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(ByteView(icc)));
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F37)->value), kNumber);
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F02)->value), "000000005000");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x5F2A)->value), "0156");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F1A)->value), "0156");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9A)->value), "260101");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F35)->value), "34");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F27)->value), "80");

  // The issuer's check of the ARQC passes with this DE55, and fails once 9F37 is another number:
  // the cryptogram is bound to the merchant's number.
  IN_APP_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(Profile(), Imk()));
  emv::TagValues tags;
  IN_APP_ASSERT_OK(tags.AddFromTree(tree));
  emv::ArqcInput in;
  in.pan = kToken;
  in.psn = kPsn;
  in.atc = static_cast<std::uint16_t>(BytesToUint(tree.FindRoot(0x9F36)->value));
  in.iad = tree.FindRoot(0x9F10)->value;
  in.tags = emv::TagSources{&tags};
  crypto::ApplicationCryptogram arqc{};
  std::copy_n(tree.FindRoot(0x9F26)->value.begin(), arqc.size(), arqc.begin());
  IN_APP_ASSERT_OK(issuer.VerifyArqc(in, arqc));
  IN_APP_ASSERT_OK(tags.Set(0x9F37, Hex("A1B2C3D5")));
  EXPECT_FALSE(issuer.VerifyArqc(in, arqc).ok());
}

TEST_F(InAppPaymentTest, MerchantBuildsAnInAppPurchase) {
  IN_APP_ASSERT_OK_AND_ASSIGN(const json payment, Pay(Order()));
  // The number may come back in lower case from the merchant's own store.
  IN_APP_ASSERT_OK_AND_ASSIGN(const Purchase p,
                              InAppPurchaseFromJson(payment, Amount(50'00, Cny()), "a1b2c3d4"));
  EXPECT_EQ(p.pan, kToken);
  EXPECT_EQ(p.expiry, "2812");
  EXPECT_EQ(p.amount, Amount(50'00, Cny()));
  EXPECT_EQ(p.entry, EntryMode::kInAppChip);
  EXPECT_FALSE(p.single_message);
  EXPECT_EQ(p.card_sequence_number, "001");
  EXPECT_EQ(HexEncode(AsBytes(p.icc_data)), payment.at("emv_data").get<std::string>());
  IN_APP_ASSERT_OK_AND_ASSIGN(const iso8583::TokenData de48,
                              iso8583::TokenData::Parse(p.token_data));
  EXPECT_EQ(de48.Get(iso8583::token_tag::kDeviceId), std::optional<std::string_view>(kDevice));
  EXPECT_EQ(de48.Get(iso8583::token_tag::kRequestorId), std::optional<std::string_view>(kTrid));

  // The 0100 a terminal builds from it: an in-app chip payment, not a tap.
  struct NoPeer final : link::MessageHandler {
    void OnRequest(iso8583::Message, link::Reply) override {}
  } peer;
  link::InMemoryLink link(peer);
  TerminalConfig config;
  config.terminal_id = "TRTOPUP1";
  config.merchant_id = "TRANSITTOPUP001";
  config.name_location = "Transit card top-up Beijing";
  config.mcc = "4111";
  config.acquirer_id = "48100000";
  PosTerminal terminal(config, link, clock_);
  const iso8583::Message m = terminal.BuildRequest(p, "000042");
  EXPECT_EQ(m.mti(), "0100");
  EXPECT_EQ(m.Get(2), std::optional<std::string_view>(kToken));
  EXPECT_EQ(m.Get(4), std::optional<std::string_view>("000000005000"));
  EXPECT_EQ(m.Get(14), std::optional<std::string_view>("2812"));
  EXPECT_EQ(m.Get(18), std::optional<std::string_view>("4111"));
  EXPECT_EQ(m.Get(22), std::optional<std::string_view>("092"));
  EXPECT_EQ(m.Get(23), std::optional<std::string_view>("001"));
  EXPECT_EQ(m.Get(25), std::optional<std::string_view>("59"));
  EXPECT_EQ(m.Get(48), std::optional<std::string_view>(p.token_data));
  EXPECT_EQ(m.Get(49), std::optional<std::string_view>("156"));
  EXPECT_EQ(m.Get(55), std::optional<std::string_view>(p.icc_data));
}

TEST_F(InAppPaymentTest, MerchantRefusesPaymentDataNotMadeForItsOrder) {
  IN_APP_ASSERT_OK_AND_ASSIGN(const json payment, Pay(Order()));
  const Amount amount(50'00, Cny());
  // Another order's number, another amount or currency: the cryptogram does not cover them.
  ExpectRefused(InAppPurchaseFromJson(payment, amount, "A1B2C3D5").status(),
                "9F37 (unpredictable number): A1B2C3D4, expected A1B2C3D5");
  ExpectRefused(InAppPurchaseFromJson(payment, Amount(60'00, Cny()), kNumber).status(),
                "9F02 (amount authorised): 000000005000, expected 000000006000");
  ExpectRefused(InAppPurchaseFromJson(payment, Amount(50'00, Usd()), kNumber).status(),
                "5F2A (transaction currency): 0156, expected 0840");
  // The merchant's own arguments.
  ExpectRefused(InAppPurchaseFromJson(payment, Amount(0, Cny()), kNumber).status(),
                "expected amount");
  ExpectRefused(InAppPurchaseFromJson(payment, amount, "A1B2C3").status(),
                "expected unpredictable number: expected 8 hex digits");
}

TEST_F(InAppPaymentTest, MerchantRefusesMalformedPaymentData) {
  IN_APP_ASSERT_OK_AND_ASSIGN(const json good, Pay(Order()));
  const Amount amount(50'00, Cny());
  auto refused = [&](json data, std::string_view fragment) {
    SCOPED_TRACE(data.dump());
    ExpectRefused(InAppPurchaseFromJson(data, amount, kNumber).status(), fragment);
  };
  auto with = [&](const char* member, json value) {
    json data = good;
    data[member] = std::move(value);
    return data;
  };
  auto without = [&](const char* member) {
    json data = good;
    data.erase(member);
    return data;
  };
  refused(json::array(), "payment_data: expected a JSON object");
  refused(with("type", "card"), "payment_data.type: expected \"emv\"");
  refused(without("type"), "payment_data.type: missing");
  refused(with("token", 5413330089600010LL), "payment_data.token: expected a string");
  refused(with("token", "5413330089600011"), "payment_data.token: expected 13-19 digits");
  refused(with("token", "541333"), "payment_data.token");
  refused(with("token_expiry", "2813"), "payment_data.token_expiry: expected YYMM");
  refused(with("psn", "1"), "payment_data.psn: expected 2 digits");
  refused(without("device_id"), "payment_data.device_id: missing");
  refused(with("device_id", "phone 1"), "payment_data.device_id: expected 1-64");
  refused(with("requestor_id", ""), "payment_data.requestor_id: expected 11 digits");
  refused(without("emv_data"), "payment_data.emv_data: missing");
  refused(with("emv_data", "9F2"), "payment_data.emv_data: ");
  refused(with("emv_data", std::string(2 * 256, 'A')), "expected 1-255 bytes, got 256");
  refused(with("emv_data", "9F0206000000"), "payment_data.emv_data: ");  // truncated value

  const std::string emv = good.at("emv_data").get<std::string>();
  // The genuine DE55 with `tag` replaced by `value_hex`, or dropped when it is empty.
  auto replaced = [&emv](emv::TlvTag tag, std::string_view value_hex) {
    const Bytes icc = Hex(emv);
    Result<emv::TlvTree> tree = emv::DecodeTlv(ByteView(icc));
    EXPECT_TRUE(tree.ok());
    Bytes out;
    for (const emv::TlvNode& node : tree->roots()) {
      if (node.tag != tag) {
        EXPECT_TRUE(emv::AppendTlv(out, node.tag, node.value).ok());
      } else if (!value_hex.empty()) {
        EXPECT_TRUE(emv::AppendTlv(out, node.tag, Hex(value_hex)).ok());
      }
    }
    return HexEncode(out);
  };
  // A second 9F02 after the genuine one: the TSP and the issuer must read what was checked here.
  refused(with("emv_data", emv + "9F0206000000000001"), "tag 9F02 appears twice");
  // Tags the merchant needs: each one missing, and one of the wrong length.
  for (emv::TlvTag tag : {0x9F26u, 0x9F27u, 0x9F36u, 0x9F02u, 0x5F2Au, 0x9F37u}) {
    refused(with("emv_data", replaced(tag, "")),
            "payment_data.emv_data " + emv::TlvTagHex(tag) + " (");
  }
  refused(with("emv_data", replaced(0x9F37, "0102")),
          "9F37 (unpredictable number): expected 4 bytes, got 2");
  // An AAC (the card declined) is not something to send online.
  refused(with("emv_data", replaced(0x9F27, "00")),
          "9F27 (cryptogram information): 00, expected an ARQC");
  // The genuine DE55 rebuilt the same way passes (the refusals above come from the changes).
  IN_APP_ASSERT_OK(
      InAppPurchaseFromJson(with("emv_data", replaced(0x9F37, kNumber)), amount, kNumber).status());

  // Unknown members are ignored; an absent requestor id or PSN is fine.
  json extra = without("requestor_id");
  extra.erase("psn");
  extra["note"] = "later versions";
  IN_APP_ASSERT_OK_AND_ASSIGN(const Purchase p, InAppPurchaseFromJson(extra, amount, kNumber));
  EXPECT_TRUE(p.card_sequence_number.empty());
  IN_APP_ASSERT_OK_AND_ASSIGN(const iso8583::TokenData de48,
                              iso8583::TokenData::Parse(p.token_data));
  EXPECT_FALSE(de48.Get(iso8583::token_tag::kRequestorId).has_value());
}

TEST_F(InAppPaymentTest, DeviceRefusesBadOrdersAndNeedsTheBiometricCheck) {
  // Without the biometric check: these are refused before the card is asked.
  auto refused = [&](const InAppOrder& order, std::string_view fragment) {
    ExpectRefused(Pay(order, false).status(), fragment);
  };
  InAppOrder order = Order();
  order.merchant_name.clear();
  refused(order, "order.merchant_name");
  refused(Order(0), "order.amount: expected 1..999999999999");
  refused(Order(50'00, "A1B2C3D"), "order.unpredictable_number_hex: expected 8 hex digits");
  refused(Order(50'00, "A1B2C3DG"), "order.unpredictable_number_hex");
  order = Order();
  order.device_id.clear();
  refused(order, "order.device_id");
  order = Order();
  order.requestor_id = "4001";
  refused(order, "order.requestor_id: expected 11 digits");

  // No biometric check: the card answers an AAC, and there is no payment data.
  const Result<json> declined = Pay(Order(), false);
  EXPECT_EQ(declined.status().code(), ErrorCode::kFailedPrecondition);
  // With it, the next payment works (the refusals above sent nothing to the card).
  IN_APP_ASSERT_OK_AND_ASSIGN(const json payment, Pay(Order()));
  IN_APP_ASSERT_OK(InAppPurchaseFromJson(payment, Amount(50'00, Cny()), kNumber).status());
}

TEST(NewInAppUnpredictableNumberTest, EightHexDigitsFromTheSource) {
  SeededRandom a(7);
  SeededRandom b(7);
  IN_APP_ASSERT_OK_AND_ASSIGN(const std::string first, NewInAppUnpredictableNumber(a));
  IN_APP_ASSERT_OK_AND_ASSIGN(const std::string again, NewInAppUnpredictableNumber(b));
  IN_APP_ASSERT_OK_AND_ASSIGN(const std::string second, NewInAppUnpredictableNumber(a));
  EXPECT_EQ(first.size(), 8u);
  EXPECT_TRUE(HexDecode(first).ok());
  EXPECT_EQ(first, again);  // the source decides
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace tapstack::acquirer
