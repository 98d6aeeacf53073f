#include "acquirer/contactless_kernel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "device/secure_element.h"
#include "emv/arqc_engine.h"
#include "emv/card_keys.h"
#include "emv/tlv.h"

namespace tapstack::acquirer {
namespace {

// IMK-AC of the published CVN-MC-20 vector (tests/vectors/emv_crypto.json, from pyemv); a test
// key anyone can read.
constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view kToken = "5413330089600010";
constexpr std::string_view kPsn = "01";

#define KERNEL_ASSERT_OK(expr)                                     \
  do {                                                             \
    const ::tapstack::Status kernel_status_ = (expr);              \
    ASSERT_TRUE(kernel_status_.ok()) << kernel_status_.ToString(); \
  } while (false)
#define KERNEL_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  KERNEL_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(kernel_result_, __LINE__), lhs, expr)
#define KERNEL_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();       \
  lhs = std::move(tmp).value()

Bytes Hex(std::string_view hex) {
  Result<Bytes> b = HexDecode(hex);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes();
}

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }
crypto::SecretBytes Imk() { return crypto::SecretBytes(Hex(kTestImk)); }

class ContactlessKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-kernel-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    se_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  void Open() {
    se_.reset();
    device::SecureElementOptions options;
    options.data_dir = dir_;
    options.device_id = "phone-1";
    options.clock = &clock_;
    Result<std::unique_ptr<device::SecureElement>> se = device::SecureElement::Open(options);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
    se_ = std::move(se).value();
  }
  // The TSP's side: MK-AC from the IMK, credentials wrapped for this device only.
  void Provision(device::KeyMode mode, std::size_t hce_keys = 0) {
    Result<crypto::SecretBytes> mk = emv::DeriveCardMasterKey(Profile(), Imk(), kToken, kPsn);
    ASSERT_TRUE(mk.ok());
    device::TokenCredentials c;
    c.token_id = "tok-1";
    c.token_number = std::string(kToken);
    c.expiry_yymm = "2812";
    c.psn = std::string(kPsn);
    c.profile_name = "mc-cvn20";
    c.mode = mode;
    if (mode == device::KeyMode::kMasterKey) {
      c.icc_master_key = mk->Clone();
    } else {
      for (std::uint16_t atc = 1; atc <= hce_keys; ++atc) {
        Result<crypto::SecretBytes> sk = emv::DeriveCardSessionKey(Profile(), *mk, atc, {});
        ASSERT_TRUE(sk.ok());
        c.limited_use_keys.push_back({atc, std::move(sk).value()});
      }
    }
    Result<crypto::SecretBytes> plain = device::EncodeTokenCredentials(c);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    Result<Bytes> blob =
        crypto::WrapForDevice(se_->public_key(), se_->device_id(), "tok-1", *plain);
    ASSERT_TRUE(blob.ok());
    KERNEL_ASSERT_OK(se_->InstallToken("tok-1", *blob));
  }
  ContactlessKernel Kernel() {
    return ContactlessKernel(
        [this](ByteView capdu) -> Result<Bytes> { return se_->Transmit(capdu); }, random_, clock_);
  }
  static ContactlessTerminalData Purchase() {
    ContactlessTerminalData data;
    data.amount_authorised_minor = 12'34;
    data.currency_numeric = 156;
    data.country_numeric = 156;
    return data;
  }
  // What the issuer (or the TSP on its behalf) sees: DE2 = token, DE23 = PSN, DE55.
  static emv::ArqcInput IssuerInput(const ContactlessResult& r, emv::TagValues& de55_tags,
                                    const emv::TlvTree& tree) {
    EXPECT_TRUE(de55_tags.AddFromTree(tree).ok());
    emv::ArqcInput in;
    in.pan = r.token_number;
    in.psn = r.psn;
    in.atc = r.atc;
    in.iad = r.iad;
    in.tags = emv::TagSources{&de55_tags};
    return in;
  }

  std::filesystem::path dir_;
  ManualClock clock_;  // 2026-01-01
  SeededRandom random_{42};
  std::unique_ptr<device::SecureElement> se_;
};

TEST_F(ContactlessKernelTest, EndToEndArqcVerifiesAtTheIssuerAndArpcAtTheCard) {
  Provision(device::KeyMode::kMasterKey);
  se_->BiometricVerified();
  ContactlessKernel kernel = Kernel();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult r, kernel.Run(Purchase()));
  EXPECT_EQ(r.outcome, KernelOutcome::kOnlineRequest);
  EXPECT_EQ(r.cid, 0x80);
  EXPECT_EQ(r.atc, 1);
  EXPECT_EQ(r.token_number, kToken);
  EXPECT_EQ(r.expiry_yymm, "2812");
  EXPECT_EQ(r.psn, "01");
  EXPECT_EQ(r.cvm_results, Hex("010002"));  // CDCVM performed
  KERNEL_ASSERT_OK_AND_ASSIGN(const Bytes aid, se_->TokenAid("tok-1"));
  EXPECT_EQ(r.aid, aid);

  // DE55 holds exactly one of each expected tag, with the transaction's values.
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(r.icc_data));
  for (emv::TlvTag tag : {0x9F26u, 0x9F27u, 0x9F10u, 0x9F37u, 0x9F36u, 0x95u, 0x9Au, 0x9Cu, 0x9F02u,
                          0x5F2Au, 0x82u, 0x9F1Au, 0x9F03u, 0x9F33u, 0x9F34u}) {
    EXPECT_NE(tree.FindRoot(tag), nullptr) << emv::TlvTagHex(tag);
  }
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F02)->value), "000000001234");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9A)->value), "260101");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x5F2A)->value), "0156");
  EXPECT_EQ(HexEncode(tree.FindRoot(0x9F27)->value), "80");

  // The issuer: MK-AC from its IMK and the token, session key from the ATC, same cryptogram.
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(Profile(), Imk()));
  emv::TagValues de55;
  const emv::ArqcInput in = IssuerInput(r, de55, tree);
  KERNEL_ASSERT_OK(issuer.VerifyArqc(in, r.cryptogram));
  EXPECT_EQ(emv::DetectCryptogramProfile(r.iad), &Profile());

  // ARPC back to the card: the right one passes, a wrong one fails (one attempt only, so the
  // wrong one goes first in a second transaction).
  const Bytes arc = Hex("3030");
  emv::ArpcInput response;
  response.arc = arc;
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::ArpcResult arpc,
                              issuer.GenerateArpc(in, r.cryptogram, response));
  KERNEL_ASSERT_OK_AND_ASSIGN(
      const IssuerAuthentication split,
      ParseIssuerAuthenticationData(Profile(), arpc.issuer_authentication_data));
  EXPECT_EQ(split.arc, arc);
  KERNEL_ASSERT_OK(kernel.ExternalAuthenticate(Profile(), arpc.issuer_authentication_data));

  se_->BiometricVerified();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult r2, kernel.Run(Purchase()));
  EXPECT_EQ(r2.atc, 2);
  EXPECT_NE(r2.cryptogram, r.cryptogram);
  EXPECT_EQ(kernel.ExternalAuthenticate(Profile(), arpc.issuer_authentication_data).code(),
            ErrorCode::kCryptoFailure);  // the first transaction's ARPC
}

TEST_F(ContactlessKernelTest, WithoutTheBiometricTheCardDeclinesOffline) {
  Provision(device::KeyMode::kMasterKey);
  ContactlessKernel kernel = Kernel();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult r, kernel.Run(Purchase()));
  EXPECT_EQ(r.outcome, KernelOutcome::kDeclinedOffline);
  EXPECT_EQ(r.cid, 0x00);
  EXPECT_EQ(r.cvm_results, Hex("3F0000"));

  se_->BiometricVerified();
  clock_.AdvanceMillis(device::kCdcvmWindowMs + 1);
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult late, kernel.Run(Purchase()));
  EXPECT_EQ(late.outcome, KernelOutcome::kDeclinedOffline);
}

TEST_F(ContactlessKernelTest, AtcPersistsAcrossADeviceRestart) {
  Provision(device::KeyMode::kMasterKey);
  {
    ContactlessKernel kernel = Kernel();
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(kernel.Run(Purchase()).ok());
  }
  Open();
  se_->BiometricVerified();
  ContactlessKernel kernel = Kernel();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult r, kernel.Run(Purchase()));
  EXPECT_EQ(r.atc, 3);
  EXPECT_EQ(r.outcome, KernelOutcome::kOnlineRequest);
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(Profile(), Imk()));
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(r.icc_data));
  emv::TagValues de55;
  KERNEL_ASSERT_OK(issuer.VerifyArqc(IssuerInput(r, de55, tree), r.cryptogram));
}

TEST_F(ContactlessKernelTest, HceSingleUseKeysVerifyThenRunOut) {
  Provision(device::KeyMode::kLimitedUse, 1);
  ContactlessKernel kernel = Kernel();
  se_->BiometricVerified();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult r, kernel.Run(Purchase()));
  EXPECT_EQ(r.outcome, KernelOutcome::kOnlineRequest);
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::ArqcEngine issuer,
                              emv::ArqcEngine::Create(Profile(), Imk()));
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(r.icc_data));
  emv::TagValues de55;
  KERNEL_ASSERT_OK(issuer.VerifyArqc(IssuerInput(r, de55, tree), r.cryptogram));
  KERNEL_ASSERT_OK_AND_ASSIGN(const bool replenish, se_->ReplenishNeeded("tok-1"));
  EXPECT_TRUE(replenish);

  se_->BiometricVerified();
  KERNEL_ASSERT_OK_AND_ASSIGN(const ContactlessResult none, kernel.Run(Purchase()));
  EXPECT_EQ(none.outcome, KernelOutcome::kDeclinedOffline);
  EXPECT_EQ(none.cid, 0x01);
}

TEST(ContactlessKernelCardTest, StatusWordsAndGarbageFromTheCardAreErrorsNotCrashes) {
  ManualClock clock;
  SeededRandom random(1);
  auto answer = [](Bytes rapdu) { return [rapdu](ByteView) -> Result<Bytes> { return rapdu; }; };
  EXPECT_EQ(ContactlessKernel(answer(Hex("6A82")), random, clock).Run({}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ContactlessKernel(answer(Hex("6985")), random, clock).Run({}).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ContactlessKernel(answer(Hex("01")), random, clock).Run({}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ContactlessKernel(answer(Hex("6F009000")), random, clock).Run({}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ContactlessKernel([](ByteView) -> Result<Bytes> { return Unavailable("field lost"); },
                              random, clock)
                .Run({})
                .status()
                .code(),
            ErrorCode::kUnavailable);
  // A PPSE listing only an unsupported AID.
  const Bytes ppse = Hex("6F1E840E325041592E5359532E4444463031A50CBF0C0961074F05A0000000019000");
  EXPECT_EQ(ContactlessKernel(answer(ppse), random, clock).Run({}).status().code(),
            ErrorCode::kNotFound);

  // Random answers: every run ends in an error, none crashes.
  SeededRandom noise(7);
  for (int i = 0; i < 2000; ++i) {
    ContactlessKernel kernel(
        [&](ByteView) -> Result<Bytes> {
          Result<std::uint64_t> size = noise.Uniform(64);
          Bytes out(size.ok() ? *size : 0);
          (void)noise.Fill(out);
          if (out.size() >= 2 && i % 2 == 0) {
            out[out.size() - 2] = 0x90;
            out.back() = 0x00;
          }
          return out;
        },
        random, clock);
    EXPECT_FALSE(kernel.Run({}).ok());
  }
}

TEST(ContactlessKernelArpcTest, IssuerAuthenticationDataFollowsTheProfilesMethod) {
  const emv::CryptogramProfile& mc20 = Profile();
  EXPECT_TRUE(ParseIssuerAuthenticationData(mc20, Bytes(10, 1)).ok());
  EXPECT_EQ(ParseIssuerAuthenticationData(mc20, Bytes(8, 1)).status().code(),
            ErrorCode::kInvalidArgument);
  const emv::CryptogramProfile& visa18 = *emv::FindCryptogramProfile("visa-cvn18");
  KERNEL_ASSERT_OK_AND_ASSIGN(const IssuerAuthentication m2,
                              ParseIssuerAuthenticationData(visa18, Hex("1122334400000000AB")));
  EXPECT_EQ(m2.arpc, Hex("11223344"));
  EXPECT_EQ(m2.csu, Hex("00000000"));
  EXPECT_EQ(m2.proprietary, Hex("AB"));
  EXPECT_EQ(ParseIssuerAuthenticationData(visa18, Bytes(17, 0)).status().code(),
            ErrorCode::kInvalidArgument);
  const emv::CryptogramProfile& aes = *emv::FindCryptogramProfile("emv-ccd-aes");
  EXPECT_EQ(ParseIssuerAuthenticationData(aes, Bytes(10, 1)).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST(ContactlessKernelDataTest, TerminalDataIsEncodedPerBook3) {
  ContactlessTerminalData data;
  data.amount_authorised_minor = 100;
  data.amount_other_minor = 5;
  data.currency_numeric = 978;
  data.country_numeric = 250;
  // 2026-03-09T12:00:00Z
  KERNEL_ASSERT_OK_AND_ASSIGN(const emv::TagValues t,
                              TerminalTagValues(data, 1'773'057'600'000, Hex("01020304")));
  EXPECT_EQ(HexEncode(*t.Get(0x9F02)), "000000000100");
  EXPECT_EQ(HexEncode(*t.Get(0x9F03)), "000000000005");
  EXPECT_EQ(HexEncode(*t.Get(0x5F2A)), "0978");
  EXPECT_EQ(HexEncode(*t.Get(0x9F1A)), "0250");
  EXPECT_EQ(HexEncode(*t.Get(0x9A)), "260309");
  EXPECT_EQ(HexEncode(*t.Get(0x9F37)), "01020304");
  data.amount_authorised_minor = 1'000'000'000'000;
  EXPECT_EQ(TerminalTagValues(data, 0, Hex("01020304")).status().code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace tapstack::acquirer
