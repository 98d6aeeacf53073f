#include "dcep_wire/log_record.h"

#include <gtest/gtest.h>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {
namespace {

class LogRecordTest : public ::testing::Test {
 protected:
  LogRecordTest()
      : pki_(crypto::SignatureScheme::kSm2Sm3),
        key_(testing::NewKey(pki_.scheme)),
        payer_(pki_.IssueDevice("watch-a", testing::RawKey(key_))) {
    OfflineTransferBody b;
    b.payer_device_id = "watch-a";
    b.payer_counter = 1;
    b.payee_device_id = "watch-b";
    b.payee_nonce = Bytes(kNonceBytes, 1);
    b.amount_fen = 10;
    b.currency_numeric = kCnyCurrencyNumeric;
    transfer_ = *SignOfflineTransfer(b, key_);
    chain_ = *EncodeCertificateChain(pki_.Chain(payer_));
  }

  testing::TestPki pki_;
  crypto::PrivateKey key_;
  Certificate payer_;
  Bytes transfer_;
  Bytes chain_;
};

TEST_F(LogRecordTest, RoundTripOneAndMany) {
  auto one = EncodeLogRecord(5, LogDirection::kReceived, transfer_, chain_);
  ASSERT_TRUE(one.ok());
  EXPECT_LE(one->size(), kLogRecordBytesMax);
  auto record = ParseLogRecord(*one);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->sequence, 5u);
  EXPECT_EQ(record->direction, LogDirection::kReceived);
  EXPECT_EQ(record->transfer.encoded, transfer_);
  EXPECT_EQ(record->payer_chain.device.encoded, payer_.encoded);
  auto two = EncodeLogRecord(6, LogDirection::kSent, transfer_, chain_);
  auto records = ParseLogRecords(Concat({*one, *two}));
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].sequence, 6u);
  EXPECT_EQ((*records)[1].direction, LogDirection::kSent);
  auto none = ParseLogRecords({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(LogRecordTest, Refusals) {
  const Bytes record = *EncodeLogRecord(1, LogDirection::kSent, transfer_, chain_);
  Bytes bad_direction = record;
  // C8 04 xx xx xx xx D0 01 <dir>: the direction byte follows the 4-byte sequence.
  const std::size_t header = record[1] == 0x82 ? 4 : (record[1] == 0x81 ? 3 : 2);
  bad_direction[header + 6 + 2] = 0x03;
  EXPECT_NE(ParseLogRecord(bad_direction).status().message().find("D0"), std::string::npos);
  EXPECT_FALSE(ParseLogRecord(Bytes(record.begin(), record.end() - 1)).ok());
  EXPECT_FALSE(EncodeLogRecord(1, LogDirection::kSent, {}, chain_).ok());
  EXPECT_FALSE(ParseLogRecords(Concat({record, Bytes{0xE2, 0x00}})).ok());
}

}  // namespace
}  // namespace tapstack::dcep_wire
