#include "device/dcep_wallet_client.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/sync_ack.h"
#include "device/secure_element.h"
#include "device_test_util.h"

namespace tapstack::device {
namespace {

namespace wire = dcep_wire;
using wire::testing::TestPki;

// A watch with a personalised hardware wallet, driven only through DcepWalletClient.
struct ClientWatch {
  std::unique_ptr<SecureElement> se;
  std::unique_ptr<DcepWalletClient> wallet;  // the wallet app's channel
  std::unique_ptr<DcepWalletClient> field;   // the contactless interface
};

class DcepWalletClientTest : public ::testing::Test {
 protected:
  ClientWatch NewWatch(const std::string& id) {
    ClientWatch w;
    SecureElementOptions options;
    options.data_dir = dir_.path() / id;
    options.device_id = id;
    auto se = SecureElement::Open(options);
    EXPECT_TRUE(se.ok()) << se.status().ToString();
    w.se = std::move(se).value();
    SecureElement* raw = w.se.get();
    w.wallet = std::make_unique<DcepWalletClient>([raw](ByteView a) { return raw->TransmitToDcepWallet(a); });
    w.field = std::make_unique<DcepWalletClient>([raw](ByteView a) { return raw->Transmit(a); });
    auto public_key = raw->InstallDcepWallet(pki_.scheme, pki_.root_key.public_key());
    EXPECT_TRUE(public_key.ok()) << public_key.status().ToString();
    const wire::Certificate device = pki_.IssueDevice(id, *public_key, serial_++);
    EXPECT_TRUE(w.wallet->PutCertificates(*wire::EncodeCertificateChain(pki_.Chain(device))).ok());
    return w;
  }

  Bytes LoadOrder(const std::string& id, std::uint32_t sequence, std::int64_t amount) {
    wire::LoadOrderBody body{id, sequence, amount, 156, pki_.operator_cert.body.serial};
    return *wire::IssueLoadOrder(body, pki_.operator_key);
  }

  testing::TempDir dir_;
  TestPki pki_{crypto::SignatureScheme::kSm2Sm3};
  std::uint64_t serial_ = 100;
};

TEST_F(DcepWalletClientTest, LoadPayOfflineReadTheLogAndSync) {
  ClientWatch a = NewWatch("watch-a");
  ClientWatch b = NewWatch("watch-b");
  auto balance = a.wallet->Load(LoadOrder("watch-a", 1, 30'000));
  ASSERT_TRUE(balance.ok()) << balance.status().ToString();
  EXPECT_EQ(*balance, 30'000);

  auto transfer = PayOffline(*a.field, *b.field, 12'345);
  ASSERT_TRUE(transfer.ok()) << transfer.status().ToString();
  auto parsed = wire::ParseTransferWithChain(*transfer);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->transfer.body.amount_fen, 12'345);
  EXPECT_EQ(parsed->transfer.body.payer_counter, 1u);

  auto a_status = a.wallet->PurseStatus();
  auto b_status = b.wallet->PurseStatus();
  ASSERT_TRUE(a_status.ok() && b_status.ok());
  EXPECT_EQ(a_status->balance_fen, 30'000 - 12'345);
  EXPECT_EQ(a_status->counter, 1u);
  EXPECT_EQ(b_status->balance_fen, 12'345);

  // The test certificates allow 5 payments before a sync: A pays 4 more, B pays A 5 times, so
  // A's log holds 10 records, more than one READ LOG page (8 records).
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(PayOffline(*a.field, *b.field, 100).ok()) << i;
  auto capped = PayOffline(*a.field, *b.field, 100);
  EXPECT_EQ(capped.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(capped.status().message().starts_with("6A84")) << capped.status().message();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(PayOffline(*b.field, *a.field, 100).ok()) << i;
  auto log = a.wallet->ReadLog();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto records = wire::ParseLogRecords(*log);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 10u);
  EXPECT_EQ(records->front().sequence, 1u);
  EXPECT_EQ(records->back().sequence, 10u);
  EXPECT_EQ(records->back().direction, wire::LogDirection::kReceived);
  auto tail = a.wallet->ReadLog(records->back().sequence);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(wire::ParseLogRecords(*tail)->size(), 1u);

  wire::SyncAckBody ack{"watch-a", 10, wire::testing::kNow, 1, {}};
  ASSERT_TRUE(a.wallet->Sync(*wire::IssueSyncAck(ack, pki_.operator_key)).ok());
  auto after = a.wallet->ReadLog();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  EXPECT_EQ(a.wallet->PurseStatus()->payments_since_sync, 0);
}

TEST_F(DcepWalletClientTest, RefusalsBecomeStatusesWithTheStatusWord) {
  ClientWatch a = NewWatch("watch-a");
  ClientWatch b = NewWatch("watch-b");
  auto poor = PayOffline(*a.field, *b.field, 1);  // nothing loaded
  EXPECT_EQ(poor.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(poor.status().message().starts_with("9401")) << poor.status().message();

  auto forged = LoadOrder("watch-a", 1, 500);
  forged.back() ^= 0x01;  // the operator's signature no longer verifies
  auto load = a.wallet->Load(forged);
  EXPECT_FALSE(load.ok());
  EXPECT_EQ(a.wallet->PurseStatus()->balance_fen, 0);

  EXPECT_EQ(a.wallet->CreatePaymentRequest(0).status().code(), ErrorCode::kInvalidArgument);

  // A device without the wallet.
  SecureElementOptions options;
  options.data_dir = dir_.path() / "bare";
  options.device_id = "bare";
  auto bare = SecureElement::Open(options);
  ASSERT_TRUE(bare.ok());
  SecureElement* raw = bare->get();
  DcepWalletClient none([raw](ByteView apdu) { return raw->Transmit(apdu); });
  EXPECT_EQ(none.Select().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace tapstack::device
