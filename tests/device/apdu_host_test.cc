#include "device/apdu_host.h"

#include <gtest/gtest.h>

#include "core/random_source.h"
#include "device_test_util.h"
#include "emv/contactless_commands.h"

namespace tapstack::device {
namespace {

using testing::DataOf;
using testing::Hex;
using testing::Send;
using testing::SwOf;

// An applet that answers 9000 with its AID for everything.
class EchoApplet final : public Applet {
 public:
  explicit EchoApplet(Bytes aid) : aid_(std::move(aid)) {}
  ByteView aid() const override { return aid_; }
  Bytes DirectoryEntry() const override {
    Bytes e;
    (void)emv::AppendTlv(e, 0x4F, aid_);
    return e;
  }
  emv::ResponseApdu Select() override { return {aid_, emv::kSwSuccess}; }
  void Deselect() override { ++deselects; }
  emv::ResponseApdu Process(const emv::CommandApdu&) override { return {{}, emv::kSwSuccess}; }
  int deselects = 0;

 private:
  Bytes aid_;
};

std::uint16_t HostSw(ApduHost& host, std::string_view hex) { return SwOf(host.Transmit(Hex(hex))); }

TEST(ApduHostTest, RoutesSelectByAidAndListsAppletsInThePpse) {
  ApduHost host;
  auto a = std::make_unique<EchoApplet>(Hex("A0000000041010"));
  EchoApplet* a_raw = a.get();
  DEVICE_ASSERT_OK(host.Install(std::move(a)));
  DEVICE_ASSERT_OK(host.Install(std::make_unique<EchoApplet>(Hex("A0000000031010"))));
  EXPECT_EQ(host.Install(std::make_unique<EchoApplet>(Hex("A0000000041010"))).code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(host.Install(std::make_unique<EchoApplet>(Hex("A000"))).code(),
            ErrorCode::kInvalidArgument);

  const Bytes ppse = host.Transmit(Hex("00A404000E325041592E5359532E444446303100"));
  ASSERT_EQ(SwOf(ppse), 0x9000);
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::FileControlInformation fci, emv::ParseFci(DataOf(ppse)));
  EXPECT_EQ(fci.df_name, Bytes(emv::kPpseName.begin(), emv::kPpseName.end()));
  ASSERT_EQ(fci.directory.size(), 2u);
  EXPECT_EQ(fci.directory[0].aid, Hex("A0000000041010"));

  const Bytes selected = host.Transmit(Hex("00A4040007A000000004101000"));
  EXPECT_EQ(selected, Concat({Hex("A0000000041010"), Hex("9000")}));
  EXPECT_EQ(HostSw(host, "80A8000002830000"), 0x9000);  // routed to the applet
  EXPECT_EQ(HostSw(host, "00A4040007A000000009999900"), 0x6A82);
  EXPECT_EQ(a_raw->deselects, 1);
  // After a failed selection nothing is selected.
  EXPECT_EQ(HostSw(host, "80A8000002830000"), 0x6985);
}

TEST(ApduHostTest, MalformedCommandsGetTheRightStatusWord) {
  ApduHost host;
  DEVICE_ASSERT_OK(host.Install(std::make_unique<EchoApplet>(Hex("A0000000041010"))));
  EXPECT_EQ(SwOf(host.Transmit({})), 0x6700);                   // empty
  EXPECT_EQ(HostSw(host, "00A404"), 0x6700);                    // 3 bytes
  EXPECT_EQ(HostSw(host, "00A4040007A0000000"), 0x6700);        // Lc 7, 4 bytes follow
  EXPECT_EQ(HostSw(host, "00A40400000005A000000004"), 0x6700);  // extended length
  EXPECT_EQ(HostSw(host, "FFA4040000"), 0x6E00);                // class
  EXPECT_EQ(HostSw(host, "0001000000"), 0x6D00);                // instruction
  EXPECT_EQ(HostSw(host, "00A40000023F00"), 0x6A86);            // select by file id
  EXPECT_EQ(HostSw(host, "00A4040C01A000"), 0x6A86);            // P2
  EXPECT_EQ(HostSw(host, "00A4040000"), 0x6700);                // no name
  EXPECT_EQ(HostSw(host, "00A4040011A00000000410100000000000000000000000"), 0x6700);
  EXPECT_EQ(HostSw(host, "80A4040007A000000004101000"), 0x6E00);  // SELECT is class 00
  EXPECT_EQ(HostSw(host, "00B2010C00"), 0x6985);                  // nothing selected
}

TEST(ApduHostTest, RandomBytesNeverCrashAndAlwaysEndInAStatusWord) {
  ApduHost host;
  DEVICE_ASSERT_OK(host.Install(std::make_unique<EchoApplet>(Hex("A0000000041010"))));
  SeededRandom random(0x5eed);
  for (int i = 0; i < 5000; ++i) {
    Result<std::uint64_t> size = random.Uniform(300);
    ASSERT_TRUE(size.ok());
    Bytes capdu(*size);
    DEVICE_ASSERT_OK(random.Fill(capdu));
    if (i % 3 == 0 && capdu.size() >= 2) capdu[1] = 0xA4;  // steer towards SELECT
    const Bytes rapdu = host.Transmit(capdu);
    ASSERT_GE(rapdu.size(), 2u);
  }
}

}  // namespace
}  // namespace tapstack::device
