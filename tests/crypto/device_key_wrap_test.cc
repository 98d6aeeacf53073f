#include "crypto/device_key_wrap.h"

#include <gtest/gtest.h>

#include "crypto_test_util.h"

namespace tapstack::crypto {
namespace {

using testing::Hex;

struct Device {
  EcdhPrivateKey key;
  Bytes public_key;
};

Device NewDevice() {
  Result<EcdhPrivateKey> key = EcdhPrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  Result<Bytes> pub = key->PublicKeyRaw();
  EXPECT_TRUE(pub.ok());
  return Device{std::move(key).value(), std::move(pub).value()};
}

const SecretBytes kKeys(Hex("00112233445566778899AABBCCDDEEFF"));

TEST(DeviceKeyWrapTest, OpensOnlyOnTheDeviceAndForTheTokenItWasMadeFor) {
  const Device a = NewDevice();
  const Device b = NewDevice();
  ASSERT_OK_AND_ASSIGN(const Bytes blob, WrapForDevice(a.public_key, "dev-a", "tok-1", kKeys));
  EXPECT_EQ(blob.size(), kDeviceKeyWrapOverheadBytes + kKeys.size());
  EXPECT_EQ(blob[0], kDeviceKeyWrapVersion);

  ASSERT_OK_AND_ASSIGN(const SecretBytes opened, UnwrapOnDevice(a.key, "dev-a", "tok-1", blob));
  EXPECT_TRUE(opened.EqualsConstantTime(kKeys));

  // Device B's private key, even claiming A's id: refused.
  EXPECT_EQ(UnwrapOnDevice(b.key, "dev-a", "tok-1", blob).status().code(),
            ErrorCode::kCryptoFailure);
  EXPECT_EQ(UnwrapOnDevice(b.key, "dev-b", "tok-1", blob).status().code(),
            ErrorCode::kCryptoFailure);
  // Right device, other id or token: refused (the AD binds both).
  EXPECT_EQ(UnwrapOnDevice(a.key, "dev-b", "tok-1", blob).status().code(),
            ErrorCode::kCryptoFailure);
  EXPECT_EQ(UnwrapOnDevice(a.key, "dev-a", "tok-2", blob).status().code(),
            ErrorCode::kCryptoFailure);
}

TEST(DeviceKeyWrapTest, EveryTamperedByteIsRefused) {
  const Device a = NewDevice();
  ASSERT_OK_AND_ASSIGN(const Bytes blob, WrapForDevice(a.public_key, "dev-a", "tok-1", kKeys));
  for (std::size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= 0x01;
    const Status status = UnwrapOnDevice(a.key, "dev-a", "tok-1", bad).status();
    EXPECT_FALSE(status.ok()) << "byte " << i;
  }
  Bytes truncated(blob.begin(), blob.end() - 1);
  EXPECT_EQ(UnwrapOnDevice(a.key, "dev-a", "tok-1", truncated).status().code(),
            ErrorCode::kCryptoFailure);
  EXPECT_EQ(UnwrapOnDevice(a.key, "dev-a", "tok-1", Bytes(10, 1)).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(DeviceKeyWrapTest, TwoWrapsOfTheSameKeysDiffer) {
  const Device a = NewDevice();
  ASSERT_OK_AND_ASSIGN(const Bytes one, WrapForDevice(a.public_key, "dev-a", "tok-1", kKeys));
  ASSERT_OK_AND_ASSIGN(const Bytes two, WrapForDevice(a.public_key, "dev-a", "tok-1", kKeys));
  EXPECT_NE(one, two);  // fresh ephemeral key each time
}

TEST(DeviceKeyWrapTest, RefusesBadArguments) {
  const Device a = NewDevice();
  EXPECT_EQ(WrapForDevice(Bytes(65, 4), "dev-a", "tok-1", kKeys).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(WrapForDevice(a.public_key, "", "tok-1", kKeys).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(WrapForDevice(a.public_key, "dev-a", std::string(65, 't'), kKeys).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(WrapForDevice(a.public_key, "dev-a", "tok-1", SecretBytes()).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::crypto
