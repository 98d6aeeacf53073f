#include "device/transit_card_profile.h"

#include <gtest/gtest.h>

#include "device_test_util.h"
#include "emv/tlv.h"

namespace tapstack::device {
namespace {

using testing::Hex;
using testing::TransitProfile;

void ExpectSame(const TransitCardProfile& a, const TransitCardProfile& b) {
  EXPECT_EQ(a.card_id, b.card_id);
  EXPECT_EQ(a.issuer_id, b.issuer_id);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.start_date, b.start_date);
  EXPECT_EQ(a.expiry_date, b.expiry_date);
  EXPECT_EQ(a.province_code, b.province_code);
  EXPECT_EQ(a.city_code, b.city_code);
  EXPECT_EQ(a.card_type, b.card_type);
  EXPECT_EQ(a.algorithm, b.algorithm);
  EXPECT_EQ(a.key_version, b.key_version);
  EXPECT_TRUE(a.purchase_key.EqualsConstantTime(b.purchase_key));
  EXPECT_TRUE(a.load_key.EqualsConstantTime(b.load_key));
  EXPECT_TRUE(a.tac_key.EqualsConstantTime(b.tac_key));
  EXPECT_TRUE(a.maintenance_key.EqualsConstantTime(b.maintenance_key));
  EXPECT_EQ(a.balance_fen, b.balance_fen);
  EXPECT_EQ(a.balance_cap_fen, b.balance_cap_fen);
}

// Expects `status` to fail with kInvalidArgument and a message containing `field`.
void ExpectRefused(const Status& status, std::string_view field) {
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << field;
  EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
}

TEST(TransitCardProfileTest, RoundTripsEveryField) {
  TransitCardProfile p = TransitProfile("sz-9", crypto::PurseAlgorithm::kSm4, 1234);
  p.card_type = 0x07;
  p.key_version = 0x03;
  p.balance_cap_fen = 200000;
  p.tac_key = crypto::SecretBytes(Hex("A1A2A3A4A5A6A7A8B1B2B3B4B5B6B7B8"));
  DEVICE_ASSERT_OK(CheckTransitCardProfile(p));
  const crypto::SecretBytes encoded = EncodeTransitCardProfile(p);
  ASSERT_FALSE(encoded.empty());
  DEVICE_ASSERT_OK_AND_ASSIGN(const TransitCardProfile back,
                              DecodeTransitCardProfile(encoded.reveal()));
  ExpectSame(back, p);
  ExpectSame(CloneTransitCardProfile(p), p);
}

TEST(TransitCardProfileTest, DatesAreBcd) {
  EXPECT_EQ(TransitDateBcd(20261122), Hex("20261122"));
  DEVICE_ASSERT_OK_AND_ASSIGN(const std::uint32_t date, TransitDateFromBcd(Hex("20361231")));
  EXPECT_EQ(date, 20361231u);
  EXPECT_FALSE(TransitDateFromBcd(Hex("2036123A")).ok());
  EXPECT_FALSE(TransitDateFromBcd(Hex("203612")).ok());
}

TEST(TransitCardProfileTest, CheckNamesTheBadField) {
  auto with = [](auto change) {
    TransitCardProfile p = TransitProfile();
    change(p);
    return CheckTransitCardProfile(p);
  };
  ExpectRefused(with([](TransitCardProfile& p) { p.card_id = ""; }), "card id");
  ExpectRefused(with([](TransitCardProfile& p) { p.card_id = "a b"; }), "card id");
  ExpectRefused(with([](TransitCardProfile& p) { p.issuer_id = Hex("01"); }), "issuer id");
  ExpectRefused(with([](TransitCardProfile& p) { p.serial = Hex("1000000000000001234A"); }),
                "serial number");
  ExpectRefused(with([](TransitCardProfile& p) { p.start_date = 20260230; }), "start date");
  ExpectRefused(with([](TransitCardProfile& p) { p.expiry_date = 20261301; }), "expiry date");
  ExpectRefused(with([](TransitCardProfile& p) { p.expiry_date = 20251231; }), "expiry date");
  ExpectRefused(with([](TransitCardProfile& p) { p.province_code = 0x11A0; }), "province code");
  ExpectRefused(with([](TransitCardProfile& p) { p.city_code = 0xFFFF; }), "city code");
  ExpectRefused(with([](TransitCardProfile& p) { p.purchase_key = crypto::SecretBytes(); }),
                "purchase key");
  ExpectRefused(with([](TransitCardProfile& p) { p.load_key = crypto::SecretBytes(Hex("00")); }),
                "load key");
  ExpectRefused(with([](TransitCardProfile& p) { p.tac_key = crypto::SecretBytes(); }), "TAC key");
  ExpectRefused(with([](TransitCardProfile& p) { p.maintenance_key = crypto::SecretBytes(); }),
                "maintenance key");
  ExpectRefused(with([](TransitCardProfile& p) { p.balance_cap_fen = 0; }), "balance cap");
  ExpectRefused(with([](TransitCardProfile& p) { p.balance_fen = 100001; }), "balance");
  DEVICE_ASSERT_OK(with([](TransitCardProfile& p) { p.start_date = 20280229; }));  // leap day
}

TEST(TransitCardProfileTest, DecodeNamesTheBadTag) {
  const crypto::SecretBytes good = EncodeTransitCardProfile(TransitProfile());
  const Bytes bytes(good.reveal().begin(), good.reveal().end());

  // A missing tag: drop the first object (DF41 card id).
  DEVICE_ASSERT_OK_AND_ASSIGN(const emv::TlvTree tree, emv::DecodeTlv(bytes));
  const std::size_t first = tree.nodes()[0].value.size() + 3;
  ExpectRefused(DecodeTransitCardProfile(ByteView(bytes).subspan(first)).status(), "DF41 missing");
  // Repeated, unknown.
  ExpectRefused(DecodeTransitCardProfile(Concat({bytes, ByteView(bytes).first(first)})).status(),
                "DF41 repeated");
  ExpectRefused(DecodeTransitCardProfile(Concat({bytes, Hex("DF6001AA")})).status(),
                "unknown tag DF60");
  // Wrong sizes and values, placed before the good fields so they are read first.
  ExpectRefused(DecodeTransitCardProfile(Concat({Hex("DF420101"), bytes})).status(),
                "issuer id (DF42) must be 8 bytes");
  ExpectRefused(DecodeTransitCardProfile(Concat({Hex("DF440420261322"), bytes})).status(),
                "repeated");
  ExpectRefused(DecodeTransitCardProfile(Concat({Hex("DF4901"), Hex("07"), bytes})).status(),
                "algorithm id (DF49)");
  ExpectRefused(DecodeTransitCardProfile(Concat({Hex("DF4F0200FF"), bytes})).status(),
                "balance (DF4F) must be 4 bytes");
  // Truncated TLV.
  EXPECT_FALSE(DecodeTransitCardProfile(ByteView(bytes).first(bytes.size() - 1)).ok());
  // A field that decodes but fails the check (an impossible date).
  TransitCardProfile bad = TransitProfile();
  bad.start_date = 20260231;
  ExpectRefused(DecodeTransitCardProfile(EncodeTransitCardProfile(bad).reveal()).status(),
                "start date");
}

}  // namespace
}  // namespace tapstack::device
