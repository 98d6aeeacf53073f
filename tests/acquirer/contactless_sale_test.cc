// A whole tap-to-pay sale: kernel against a secure element over APDUs, 0100 to a fake issuer that
// checks the ARQC and answers with an ARPC, the ARPC checked by the card, the receipt line.
#include "acquirer/contactless_sale.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "device/secure_element.h"
#include "device/token_credentials.h"
#include "emv/arqc_engine.h"
#include "emv/card_keys.h"
#include "emv/tlv.h"
#include "iso8583/response.h"

namespace tapstack::acquirer {
namespace {

// IMK-AC of the published CVN-MC-20 vector (tests/vectors/emv_crypto.json, pyemv): a test key.
constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view kToken = "5413330089600010";

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }
crypto::SecretBytes Imk() { return crypto::SecretBytes(*HexDecode(kTestImk)); }

// The network and issuer in one: verifies the ARQC with the token's keys and answers.
class FakeIssuer final : public link::RequestSender {
 public:
  enum class Mode { kApprove, kDecline, kWrongArpc };
  explicit FakeIssuer(Mode mode) : mode_(mode) {}

  void Send(iso8583::Message request, link::ResponseCallback done) override {
    ++requests;
    last_request = request;
    if (mode_ == Mode::kDecline) {
      done(iso8583::ResponseTo(request, "51"));
      return;
    }
    const std::string_view de55 = request.Get(55).value_or("");
    Result<emv::TlvTree> tree = emv::DecodeTlv(AsBytes(de55));
    if (!tree.ok()) return done(iso8583::ResponseTo(request, "30"));
    emv::TagValues tags;
    if (!tags.AddFromTree(*tree).ok()) return done(iso8583::ResponseTo(request, "30"));
    emv::ArqcInput in;
    in.pan = request.Get(2).value_or("");
    in.psn = "00";
    in.atc = static_cast<std::uint16_t>((tree->FindRoot(0x9F36)->value[0] << 8) |
                                        tree->FindRoot(0x9F36)->value[1]);
    in.iad = tree->FindRoot(0x9F10)->value;
    in.tags = emv::TagSources{&tags};
    crypto::ApplicationCryptogram arqc{};
    const emv::TlvNode* ac = tree->FindRoot(0x9F26);
    std::copy(ac->value.begin(), ac->value.end(), arqc.begin());
    Result<emv::ArqcEngine> engine = emv::ArqcEngine::Create(Profile(), Imk());
    if (!engine.ok() || !engine->VerifyArqc(in, arqc).ok()) {
      return done(iso8583::ResponseTo(request, "05"));
    }
    const Bytes arc = {0x30, 0x30};  // "00" approve
    emv::ArpcInput response;
    response.arc = arc;
    Result<emv::ArpcResult> arpc = engine->GenerateArpc(in, arqc, response);
    if (!arpc.ok()) return done(iso8583::ResponseTo(request, "96"));
    Bytes tag91 = arpc->issuer_authentication_data;
    if (mode_ == Mode::kWrongArpc) tag91[0] ^= 0x01;
    Bytes de55_out = {0x91, static_cast<std::uint8_t>(tag91.size())};
    de55_out.insert(de55_out.end(), tag91.begin(), tag91.end());
    iso8583::Message answer = iso8583::ResponseTo(request, "00");
    answer.Set(38, "A1B2C3");
    answer.Set(55, std::string_view(reinterpret_cast<const char*>(de55_out.data()),
                                    de55_out.size()));
    done(std::move(answer));
  }
  bool ready() const override { return true; }

  int requests = 0;
  iso8583::Message last_request;

 private:
  Mode mode_;
};

class ContactlessSaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-sale-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    device::SecureElementOptions options;
    options.data_dir = dir_;
    options.device_id = "phone-1";
    options.clock = &clock_;
    auto se = device::SecureElement::Open(options);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
    se_ = std::move(se).value();

    device::TokenCredentials c;
    c.token_id = "tok-1";
    c.token_number = std::string(kToken);
    c.expiry_yymm = "2812";
    c.profile_name = "mc-cvn20";
    auto mk = emv::DeriveCardMasterKey(Profile(), Imk(), kToken, "00");
    ASSERT_TRUE(mk.ok());
    c.icc_master_key = std::move(mk).value();
    auto plain = device::EncodeTokenCredentials(c);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    auto blob = crypto::WrapForDevice(se_->public_key(), se_->device_id(), "tok-1", *plain);
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE(se_->InstallToken("tok-1", *blob).ok());
  }
  void TearDown() override {
    se_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Result<ContactlessSaleResult> Sell(FakeIssuer& network, std::int64_t minor) {
    PosTerminal terminal(config_, network, clock_);
    ContactlessKernel kernel([this](ByteView c) -> Result<Bytes> { return se_->Transmit(c); },
                             random_, clock_);
    return RunContactlessSale(kernel, terminal, config_, Amount(minor, Cny()), Profile());
  }

  TerminalConfig config_{"TERM0001", "MERCHANT0000001", "Best Transport Store Beijing", "5411",
                         156, "48020001"};
  std::filesystem::path dir_;
  ManualClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<device::SecureElement> se_;
};

TEST_F(ContactlessSaleTest, ApprovedSaleChecksTheArpcAndPrintsAMaskedReceipt) {
  FakeIssuer network(FakeIssuer::Mode::kApprove);
  se_->BiometricVerified();
  auto sale = Sell(network, 8'800);
  ASSERT_TRUE(sale.ok()) << sale.status().ToString();
  EXPECT_TRUE(sale->sent_online);
  EXPECT_TRUE(sale->approved);
  EXPECT_TRUE(sale->issuer_authenticated);
  ASSERT_EQ(network.requests, 1);
  EXPECT_EQ(network.last_request.mti(), "0100");
  EXPECT_EQ(network.last_request.Get(22)->substr(0, 2), "07");  // contactless chip
  EXPECT_EQ(network.last_request.Get(2), std::optional<std::string_view>(kToken));
  EXPECT_EQ(sale->receipt_line,
            "TERM0001 Best Transport Store Beijing | CNY 88.00 | token ************0010 | "
            "APPROVED 00 auth A1B2C3 | ARPC ok");
  EXPECT_EQ(sale->receipt_line.find(kToken), std::string::npos);
}

TEST_F(ContactlessSaleTest, WithoutTheBiometricTheCardDeclinesAndNothingIsSent) {
  FakeIssuer network(FakeIssuer::Mode::kApprove);
  auto sale = Sell(network, 8'800);
  ASSERT_TRUE(sale.ok()) << sale.status().ToString();
  EXPECT_FALSE(sale->sent_online);
  EXPECT_FALSE(sale->approved);
  EXPECT_EQ(network.requests, 0);
  EXPECT_NE(sale->receipt_line.find("DECLINED BY CARD (offline)"), std::string::npos);
}

TEST_F(ContactlessSaleTest, IssuerDeclineIsPrintedWithItsCode) {
  FakeIssuer network(FakeIssuer::Mode::kDecline);
  se_->BiometricVerified();
  auto sale = Sell(network, 8'800);
  ASSERT_TRUE(sale.ok()) << sale.status().ToString();
  EXPECT_TRUE(sale->sent_online);
  EXPECT_FALSE(sale->approved);
  EXPECT_FALSE(sale->issuer_authenticated);
  EXPECT_NE(sale->receipt_line.find("DECLINED 51"), std::string::npos);
}

TEST_F(ContactlessSaleTest, AnArpcTheCardRejectsIsReported) {
  FakeIssuer network(FakeIssuer::Mode::kWrongArpc);
  se_->BiometricVerified();
  auto sale = Sell(network, 8'800);
  ASSERT_TRUE(sale.ok()) << sale.status().ToString();
  EXPECT_TRUE(sale->approved);
  EXPECT_FALSE(sale->issuer_authenticated);
  EXPECT_NE(sale->receipt_line.find("ARPC not verified"), std::string::npos);
}

}  // namespace
}  // namespace tapstack::acquirer
