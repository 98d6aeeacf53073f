#include "device/payment_applet.h"

#include <gtest/gtest.h>

#include "device_test_util.h"
#include "emv/arqc_engine.h"
#include "emv/contactless_commands.h"

namespace tapstack::device {
namespace {

using testing::DataOf;
using testing::Hex;
using testing::MasterKeyCredentials;
using testing::Send;
using testing::SwOf;
using testing::TempDir;

using testing::kCdolData;
using testing::kPdolData;

class PaymentAppletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    se_ = testing::OpenDevice(dir_.path(), "phone-1", &clock_);
    ASSERT_NE(se_, nullptr);
    DEVICE_ASSERT_OK(se_->InstallToken("tok-1", testing::WrapFor(*se_, MasterKeyCredentials())));
    DEVICE_ASSERT_OK_AND_ASSIGN(aid_, se_->TokenAid("tok-1"));
  }

  Bytes Command(const Result<emv::CommandApdu>& command) {
    EXPECT_TRUE(command.ok());
    Result<Bytes> bytes = emv::EncodeCommandApdu(*command);
    EXPECT_TRUE(bytes.ok());
    return se_->Transmit(*bytes);
  }
  Bytes SelectAid() { return Command(emv::SelectAid(aid_)); }
  Bytes Gpo(std::string_view pdol_hex = kPdolData) {
    return Command(emv::GetProcessingOptions(Hex(pdol_hex)));
  }
  Bytes GenerateAc(emv::CryptogramType type = emv::CryptogramType::kArqc,
                   std::string_view cdol_hex = kCdolData) {
    return Command(emv::GenerateAc(type, false, Hex(cdol_hex)));
  }
  // SELECT, GPO, GENERATE AC; returns the parsed GENERATE AC response.
  emv::GenerateAcResponse Tap() {
    EXPECT_EQ(SwOf(SelectAid()), 0x9000);
    EXPECT_EQ(SwOf(Gpo()), 0x9000);
    const Bytes ac = GenerateAc();
    EXPECT_EQ(SwOf(ac), 0x9000);
    Result<emv::GenerateAcResponse> parsed = emv::ParseGenerateAcResponse(DataOf(ac));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? *parsed : emv::GenerateAcResponse{};
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<SecureElement> se_;
  Bytes aid_;
};

TEST_F(PaymentAppletTest, SelectGivesTheFciWithPdol) {
  const Bytes fci_apdu = SelectAid();
  ASSERT_EQ(SwOf(fci_apdu), 0x9000);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::FileControlInformation fci,
                              emv::ParseFci(DataOf(fci_apdu)));
  EXPECT_EQ(fci.df_name, aid_);
  EXPECT_EQ(fci.label, "TAPSTACK");
  DEVICE_ASSERT_OK_AND_ASSIGN(const auto pdol, emv::ParseDol(fci.pdol));
  EXPECT_EQ(emv::DolDataLength(pdol), 33u);
}

TEST_F(PaymentAppletTest, RecordsCarryTheTokenNeverAPan) {
  ASSERT_EQ(SwOf(SelectAid()), 0x9000);
  const Bytes gpo = Gpo();
  ASSERT_EQ(SwOf(gpo), 0x9000);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ProcessingOptions options,
                              emv::ParseProcessingOptions(DataOf(gpo)));
  EXPECT_EQ(options.aip, Hex("1680"));
  ASSERT_EQ(options.afl_entries.size(), 2u);
  const Bytes record = Command(emv::ReadRecord(1, 1));
  ASSERT_EQ(SwOf(record), 0x9000);
  const std::string hex = HexEncode(DataOf(record));
  // 57: token D 2812 201 0000000000 (34 nibbles, no F pad); 5F24 281231; 5F34 01.
  EXPECT_NE(hex.find("57115413330089600010D28122010000000000"), std::string::npos) << hex;
  EXPECT_NE(hex.find("5F2403281231"), std::string::npos);
  EXPECT_NE(hex.find("5F340101"), std::string::npos);
  EXPECT_EQ(SwOf(Command(emv::ReadRecord(1, 2))), 0x6A83);
  EXPECT_EQ(SwOf(Command(emv::ReadRecord(3, 1))), 0x6A83);
  EXPECT_EQ(SwOf(Command(emv::ReadRecord(2, 1))), 0x9000);
}

TEST_F(PaymentAppletTest, NoBiometricMeansAnAacWithCid00) {
  const emv::GenerateAcResponse ac = Tap();
  EXPECT_EQ(ac.cid, kCidAac);
  EXPECT_EQ(ac.atc, 1);  // the AAC still uses (and burns) an ATC
}

TEST_F(PaymentAppletTest, BiometricArmsOneArqcWithinTheWindow) {
  se_->BiometricVerified();
  clock_.AdvanceMillis(kCdcvmWindowMs - 1);
  emv::GenerateAcResponse ac = Tap();
  EXPECT_EQ(ac.cid, kCidArqc);
  EXPECT_EQ(ac.atc, 1);
  ac = Tap();  // the verification was used up
  EXPECT_EQ(ac.cid, kCidAac);
  EXPECT_EQ(ac.atc, 2);

  se_->BiometricVerified();
  clock_.AdvanceMillis(kCdcvmWindowMs + 1);
  ac = Tap();
  EXPECT_EQ(ac.cid, kCidAac);  // window expired
  EXPECT_EQ(ac.atc, 3);
}

TEST_F(PaymentAppletTest, TheArqcVerifiesAtTheIssuerWithCdcvmInTheCvmResults) {
  se_->BiometricVerified();
  ASSERT_EQ(SwOf(SelectAid()), 0x9000);
  ASSERT_EQ(SwOf(Gpo()), 0x9000);
  const Bytes ac_apdu = GenerateAc();
  ASSERT_EQ(SwOf(ac_apdu), 0x9000);
  EXPECT_NE(HexEncode(DataOf(ac_apdu)).find("9F3403010002"), std::string::npos);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::GenerateAcResponse ac,
                              emv::ParseGenerateAcResponse(DataOf(ac_apdu)));
  ASSERT_TRUE(ac.ac.has_value());
  EXPECT_EQ(emv::DetectCryptogramProfile(ac.iad), &testing::Profile());

  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(testing::Profile(), testing::TestImk()));
  emv::TagValues terminal;
  DEVICE_ASSERT_OK(terminal.SetHex("9F02", "000000001234"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F03", "000000000000"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F1A", "0156"));
  DEVICE_ASSERT_OK(terminal.SetHex("95", "0000000000"));
  DEVICE_ASSERT_OK(terminal.SetHex("5F2A", "0156"));
  DEVICE_ASSERT_OK(terminal.SetHex("9A", "260101"));
  DEVICE_ASSERT_OK(terminal.SetHex("9C", "00"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F37", "11223344"));
  DEVICE_ASSERT_OK(terminal.SetHex("82", "1680"));
  emv::ArqcInput in;
  in.pan = testing::kTokenNumber;
  in.psn = testing::kPsn;
  in.atc = ac.atc;
  in.iad = ac.iad;
  in.tags = emv::TagSources{&terminal};
  DEVICE_ASSERT_OK(issuer.VerifyArqc(in, *ac.ac));
  // A changed amount does not verify.
  DEVICE_ASSERT_OK(terminal.SetHex("9F02", "000000001235"));
  EXPECT_EQ(issuer.VerifyArqc(in, *ac.ac).code(), ErrorCode::kCryptoFailure);
  DEVICE_ASSERT_OK(terminal.SetHex("9F02", "000000001234"));

  // The issuer's ARPC (method 1, session key) goes back through EXTERNAL AUTHENTICATE.
  const Bytes arc = Hex("3030");
  emv::ArpcInput response;
  response.arc = arc;
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ArpcResult arpc,
                              issuer.GenerateArpc(in, *ac.ac, response));
  Bytes wrong = arpc.issuer_authentication_data;
  wrong[0] ^= 1;
  emv::CommandApdu external{.cla = 0x00, .ins = 0x82, .p1 = 0, .p2 = 0, .data = wrong, .le = {}};
  DEVICE_ASSERT_OK_AND_ASSIGN(Bytes capdu, emv::EncodeCommandApdu(external));
  EXPECT_EQ(SwOf(se_->Transmit(capdu)), 0x6300);
  EXPECT_EQ(SwOf(se_->Transmit(capdu)), 0x6985);  // one attempt per transaction
}

TEST_F(PaymentAppletTest, ExternalAuthenticateAcceptsTheRightArpc) {
  se_->BiometricVerified();
  const emv::GenerateAcResponse ac = Tap();
  ASSERT_EQ(ac.cid, kCidArqc);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(testing::Profile(), testing::TestImk()));
  emv::TagValues terminal;
  DEVICE_ASSERT_OK(terminal.SetHex("9F02", "000000001234"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F03", "000000000000"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F1A", "0156"));
  DEVICE_ASSERT_OK(terminal.SetHex("95", "0000000000"));
  DEVICE_ASSERT_OK(terminal.SetHex("5F2A", "0156"));
  DEVICE_ASSERT_OK(terminal.SetHex("9A", "260101"));
  DEVICE_ASSERT_OK(terminal.SetHex("9C", "00"));
  DEVICE_ASSERT_OK(terminal.SetHex("9F37", "11223344"));
  DEVICE_ASSERT_OK(terminal.SetHex("82", "1680"));
  emv::ArqcInput in{.pan = testing::kTokenNumber,
                    .psn = testing::kPsn,
                    .atc = ac.atc,
                    .unpredictable_number = {},
                    .iad = ac.iad,
                    .tags = emv::TagSources{&terminal},
                    .ac_data_dol = {}};
  const Bytes arc = Hex("3030");
  emv::ArpcInput response;
  response.arc = arc;
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::ArpcResult arpc,
                              issuer.GenerateArpc(in, *ac.ac, response));
  emv::CommandApdu external{.cla = 0x00,
                            .ins = 0x82,
                            .p1 = 0,
                            .p2 = 0,
                            .data = arpc.issuer_authentication_data,
                            .le = {}};
  DEVICE_ASSERT_OK_AND_ASSIGN(Bytes capdu, emv::EncodeCommandApdu(external));
  EXPECT_EQ(SwOf(se_->Transmit(capdu)), 0x9000);
}

TEST_F(PaymentAppletTest, OutOfSequenceAndMalformedCommands) {
  ASSERT_EQ(SwOf(SelectAid()), 0x9000);
  EXPECT_EQ(SwOf(GenerateAc()), 0x6985);                    // before GPO
  EXPECT_EQ(SwOf(Send(*se_, "80A8000003840100")), 0x6A80);  // not template 83
  EXPECT_EQ(SwOf(Gpo("2680400000")), 0x6700);               // PDOL data too short
  EXPECT_EQ(SwOf(Send(*se_, "00A8000002830000")), 0x6E00);  // GPO is class 80
  EXPECT_EQ(SwOf(Send(*se_, "80A8010002830000")), 0x6A86);  // P1
  EXPECT_EQ(SwOf(Send(*se_, "00B2010800")), 0x6A86);        // P2 without 100
  ASSERT_EQ(SwOf(Gpo()), 0x9000);
  EXPECT_EQ(SwOf(Gpo()), 0x6985);  // GPO twice
  EXPECT_EQ(SwOf(GenerateAc(emv::CryptogramType::kArqc, "0000")), 0x6700);
  EXPECT_EQ(SwOf(Send(*se_, "80AEC0001D" + std::string(kCdolData) + "00")), 0x6A86);  // RFU
  EXPECT_EQ(SwOf(Send(*se_, "80CA9F1700")), 0x6A88);  // GET DATA other tag
  EXPECT_EQ(SwOf(Send(*se_, "80CA9F3600")), 0x9000);
  EXPECT_EQ(SwOf(Send(*se_, "00820000083030303030303030")), 0x6985);  // no ARQC yet
  EXPECT_EQ(SwOf(Send(*se_, "80E2000000")), 0x6D00);                  // not an EMV instruction
  ASSERT_EQ(SwOf(GenerateAc()), 0x9000);
  EXPECT_EQ(SwOf(GenerateAc()), 0x6985);  // no second GENERATE AC
}

TEST_F(PaymentAppletTest, ATerminalAskingForAnAacGetsOne) {
  se_->BiometricVerified();
  ASSERT_EQ(SwOf(SelectAid()), 0x9000);
  ASSERT_EQ(SwOf(Gpo()), 0x9000);
  const Bytes ac = GenerateAc(emv::CryptogramType::kAac);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::GenerateAcResponse parsed,
                              emv::ParseGenerateAcResponse(DataOf(ac)));
  EXPECT_EQ(parsed.cid, kCidAac);
}

}  // namespace
}  // namespace tapstack::device
