#include "device/dcep_applet.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/hex.h"
#include "dcep_wire/dcep_test_pki.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/payment_request.h"
#include "dcep_wire/scheme.h"
#include "dcep_wire/sync_ack.h"
#include "device/secure_element.h"
#include "device_test_util.h"
#include "emv/apdu_chaining.h"

namespace tapstack::device {
namespace {

namespace wire = dcep_wire;
using emv::CommandApdu;
using emv::ResponseApdu;
using emv::StatusWord;
using wire::testing::TestPki;

constexpr StatusWord k9000{0x9000};
constexpr StatusWord k6283{0x6283};
constexpr StatusWord k6982{0x6982};
constexpr StatusWord k6985{0x6985};
constexpr StatusWord k6A80{0x6A80};
constexpr StatusWord k6A84{0x6A84};
constexpr StatusWord k6A88{0x6A88};
constexpr StatusWord k9401{0x9401};

CommandApdu Command(std::uint8_t ins, Bytes data = {}, std::uint8_t p2 = 0x00, std::uint8_t p1 = 0x00) {
  return CommandApdu{kDcepCla, ins, p1, p2, std::move(data), std::uint16_t{256}};
}

Bytes RequestData(std::int64_t amount, std::uint16_t currency = 156, std::int64_t host_time = 0) {
  Bytes data = Concat({*emv::EncodeTlv(0x9F02, UintToBytes(static_cast<std::uint64_t>(amount), 8)),
                       *emv::EncodeTlv(0x5F2A, UintToBytes(currency, 2))});
  if (host_time > 0) {
    const Bytes time = *emv::EncodeTlv(0x9A, UintToBytes(static_cast<std::uint64_t>(host_time), 8));
    data.insert(data.end(), time.begin(), time.end());
  }
  return data;
}

// One watch: a secure element in its own directory, reached through APDU bytes only.
class Watch {
 public:
  Watch(std::filesystem::path dir, std::string id) : dir_(std::move(dir)), id_(std::move(id)) {
    Reopen();
  }

  void Reopen() {
    se_.reset();
    SecureElementOptions options;
    options.data_dir = dir_;
    options.device_id = id_;
    auto se = SecureElement::Open(options);
    ASSERT_TRUE(se.ok()) << se.status().ToString();
    se_ = std::move(se).value();
  }

  // Over the wallet's own channel.
  ResponseApdu Wallet(const CommandApdu& command) {
    auto r = emv::TransmitChained([this](ByteView apdu) { return se_->TransmitToDcepWallet(apdu); },
                                  command);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ResponseApdu{};
  }

  // Over the contactless interface, after SELECT of the wallet's AID.
  ResponseApdu Field(const CommandApdu& command) {
    const Bytes select = Concat({Bytes{0x00, 0xA4, 0x04, 0x00, sizeof(kDcepAid)}, kDcepAid, Bytes{0x00}});
    const Bytes selected = se_->Transmit(select);
    EXPECT_EQ(HexEncode(ByteView(selected).last(2)), "9000");
    auto r = emv::TransmitChained([this](ByteView apdu) { return se_->Transmit(apdu); }, command);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ResponseApdu{};
  }

  DcepPurseStatus Status() {
    ResponseApdu r = Wallet(Command(kDcepInsGetData, {}, kDcepDataPurseStatus));
    EXPECT_EQ(r.sw, k9000);
    auto status = ParseDcepPurseStatus(r.data);
    EXPECT_TRUE(status.ok());
    return status.ok() ? *status : DcepPurseStatus{};
  }

  SecureElement& se() { return *se_; }
  const std::string& id() const { return id_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string id_;
  std::unique_ptr<SecureElement> se_;
};

class DcepAppletTest : public ::testing::TestWithParam<crypto::SignatureScheme> {
 protected:
  DcepAppletTest() : pki_(GetParam()) {}

  std::unique_ptr<Watch> NewWatch(const std::string& id, bool personalise = true) {
    auto watch = std::make_unique<Watch>(dir_.path() / id, id);
    if (personalise) Personalise(*watch, pki_);
    return watch;
  }

  void Personalise(Watch& watch, const TestPki& pki) {
    auto public_key = watch.se().InstallDcepWallet(pki.scheme, pki.root_key.public_key());
    ASSERT_TRUE(public_key.ok()) << public_key.status().ToString();
    const wire::Certificate device = pki.IssueDevice(watch.id(), *public_key, serial_++);
    const Bytes chain = *wire::EncodeCertificateChain(pki.Chain(device));
    EXPECT_EQ(watch.Wallet(Command(kDcepInsPutCertificates, chain)).sw, k9000);
  }

  ResponseApdu Load(Watch& watch, std::uint32_t sequence, std::int64_t amount) {
    wire::LoadOrderBody body{watch.id(), sequence, amount, 156, pki_.operator_cert.body.serial};
    return watch.Wallet(Command(kDcepInsLoad, *wire::IssueLoadOrder(body, pki_.operator_key)));
  }

  // `revoked`: device ids certified by `issuer` (the test operator when empty).
  ResponseApdu Sync(Watch& watch, std::uint32_t acknowledged, std::vector<std::string> revoked = {},
                    std::uint32_t version = 1, std::string issuer = "") {
    if (issuer.empty()) issuer = pki_.operator_id;
    wire::SyncAckBody body{watch.id(), acknowledged, wire::testing::kNow, version, {}};
    for (std::string& id : revoked) body.revoked.push_back({issuer, std::move(id)});
    return watch.Wallet(Command(kDcepInsSync, *wire::IssueSyncAck(body, pki_.operator_key)));
  }

  // payee creates a request, payer pays over the field, payee receives over the field.
  // Returns the PAY answer (E2 | E4) and sets the RECEIVE status word.
  Bytes Pay(Watch& payer, Watch& payee, std::int64_t amount, StatusWord* receive_sw = nullptr) {
    ResponseApdu request = payee.Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(amount)));
    EXPECT_EQ(request.sw, k9000);
    ResponseApdu paid = payer.Field(Command(kDcepInsPay, request.data));
    if (paid.sw != k9000) {
      if (receive_sw != nullptr) *receive_sw = paid.sw;
      return {};
    }
    ResponseApdu received = payee.Field(Command(kDcepInsReceive, paid.data));
    if (receive_sw != nullptr) {
      *receive_sw = received.sw;
    } else {
      EXPECT_EQ(received.sw, k9000);
    }
    return paid.data;
  }

  testing::TempDir dir_;
  TestPki pki_;
  std::uint64_t serial_ = 5000;
};

TEST_P(DcepAppletTest, LoadPayOfflineAndRespend) {
  auto a = NewWatch("watch-a");
  auto b = NewWatch("watch-b");
  auto c = NewWatch("watch-c");
  ResponseApdu loaded = Load(*a, 1, 50'000);
  ASSERT_EQ(loaded.sw, k9000);
  EXPECT_EQ(BytesToUint(loaded.data), 50'000u);

  const Bytes paid = Pay(*a, *b, 12'000);
  ASSERT_FALSE(paid.empty());
  EXPECT_GT(paid.size(), 256u);  // came back through GET RESPONSE
  auto transfer = wire::ParseTransferWithChain(paid);
  ASSERT_TRUE(transfer.ok()) << transfer.status().ToString();
  EXPECT_EQ(transfer->transfer.body.payer_device_id, "watch-a");
  EXPECT_EQ(transfer->transfer.body.payer_counter, 1u);
  EXPECT_EQ(transfer->transfer.body.payee_device_id, "watch-b");
  EXPECT_EQ(transfer->transfer.body.amount_fen, 12'000);
  EXPECT_TRUE(wire::VerifyOfflineTransferFromRoot(transfer->transfer, transfer->chain,
                                                  pki_.root_key.public_key(), wire::testing::kNow)
                  .ok());
  EXPECT_EQ(a->Status(), (DcepPurseStatus{38'000, 1, 1, 12'000}));
  EXPECT_EQ(b->Status(), (DcepPurseStatus{12'000, 0, 0, 0}));

  // B re-spends what it received, still offline.
  const Bytes respent = Pay(*b, *c, 5'000);
  ASSERT_FALSE(respent.empty());
  EXPECT_EQ(b->Status(), (DcepPurseStatus{7'000, 1, 1, 5'000}));
  EXPECT_EQ(c->Status().balance_fen, 5'000);

  // B's log: received from A, then sent to C.
  ResponseApdu log = b->Wallet(Command(kDcepInsReadLog, {}, 0x01));
  ASSERT_EQ(log.sw, k9000);
  auto records = wire::ParseLogRecords(log.data);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].direction, wire::LogDirection::kReceived);
  EXPECT_EQ((*records)[0].transfer.encoded, transfer->transfer.encoded);
  EXPECT_EQ((*records)[1].direction, wire::LogDirection::kSent);
  EXPECT_EQ((*records)[1].sequence, 2u);
  ResponseApdu last = b->Wallet(Command(kDcepInsGetData, {}, kDcepDataLastLogSequence));
  EXPECT_EQ(BytesToUint(last.data), 2u);
  EXPECT_EQ(b->Wallet(Command(kDcepInsReadLog, {}, 0x03)).sw, k6A88);

  // Sync acknowledges everything: counters reset, log pruned.
  EXPECT_EQ(Sync(*b, 2).sw, k9000);
  EXPECT_EQ(b->Status(), (DcepPurseStatus{7'000, 1, 0, 0}));
  EXPECT_EQ(b->Wallet(Command(kDcepInsReadLog, {}, 0x01)).sw, k6A88);
}

TEST_P(DcepAppletTest, CountersSurviveReopen) {
  auto a = NewWatch("watch-a");
  auto b = NewWatch("watch-b");
  ASSERT_EQ(Load(*a, 1, 10'000).sw, k9000);
  ASSERT_FALSE(Pay(*a, *b, 1'000).empty());
  a->Reopen();
  b->Reopen();
  EXPECT_EQ(a->Status(), (DcepPurseStatus{9'000, 1, 1, 1'000}));
  const Bytes second = Pay(*a, *b, 2'000);
  auto t = wire::ParseTransferWithChain(second);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->transfer.body.payer_counter, 2u);
  EXPECT_EQ(b->Status().balance_fen, 3'000);
}

TEST_P(DcepAppletTest, ClonedStateSignsTheSameCounterTwice) {
  auto a = NewWatch("watch-a");
  auto b = NewWatch("watch-b");
  auto c = NewWatch("watch-c");
  ASSERT_EQ(Load(*a, 1, 10'000).sw, k9000);
  // Clone the element's memory (what a broken SE would allow).
  const auto clone_dir = dir_.path() / "clone";
  std::filesystem::create_directories(clone_dir);
  std::filesystem::copy(a->dir(), clone_dir, std::filesystem::copy_options::recursive);
  Watch clone(clone_dir, "watch-a");
  const auto t1 = wire::ParseTransferWithChain(Pay(*a, *b, 4'000));
  const auto t2 = wire::ParseTransferWithChain(Pay(clone, *c, 6'000));
  ASSERT_TRUE(t1.ok());
  ASSERT_TRUE(t2.ok());
  // Same (device, counter), different records: what the operator detects as a double spend.
  EXPECT_EQ(t1->transfer.body.payer_device_id, t2->transfer.body.payer_device_id);
  EXPECT_EQ(t1->transfer.body.payer_counter, 1u);
  EXPECT_EQ(t2->transfer.body.payer_counter, 1u);
  EXPECT_NE(t1->transfer.encoded, t2->transfer.encoded);
  EXPECT_EQ(b->Status().balance_fen, 4'000);
  EXPECT_EQ(c->Status().balance_fen, 6'000);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, DcepAppletTest,
                         ::testing::ValuesIn(wire::testing::AllSchemes()));

// ---- refusals (SM2, the default scheme) -------------------------------------------------------

class DcepRefusalTest : public DcepAppletTest {
 protected:
  void SetUp() override {
    a_ = NewWatch("watch-a");
    b_ = NewWatch("watch-b");
    ASSERT_EQ(Load(*a_, 1, 60'000).sw, k9000);
  }

  // A software payer certified by the same operator, to craft transfers the applet never would.
  struct SoftPayer {
    crypto::PrivateKey key;
    wire::Certificate cert;
  };
  SoftPayer NewSoftPayer(const std::string& id) {
    SoftPayer p{wire::testing::NewKey(pki_.scheme), {}};
    p.cert = pki_.IssueDevice(id, wire::testing::RawKey(p.key), 9999);
    return p;
  }
  Bytes Signed(const SoftPayer& payer, const wire::OfflineTransferBody& body) {
    return Concat({*wire::SignOfflineTransfer(body, payer.key),
                   *wire::EncodeCertificateChain(pki_.Chain(payer.cert))});
  }
  wire::PaymentRequest Request(Watch& payee, std::int64_t amount) {
    ResponseApdu r = payee.Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(amount)));
    EXPECT_EQ(r.sw, k9000);
    auto request = wire::ParsePaymentRequest(r.data);
    EXPECT_TRUE(request.ok());
    return *request;
  }
  wire::OfflineTransferBody BodyFor(const SoftPayer& payer, const wire::PaymentRequest& request,
                                    std::uint32_t counter = 1) {
    return {payer.cert.body.subject_id, counter, request.payee_device.body.subject_id,
            request.payee_nonce, request.amount_fen, 156, 0, payer.cert.body.serial};
  }

  std::unique_ptr<Watch> a_;
  std::unique_ptr<Watch> b_;
};

TEST_P(DcepRefusalTest, PayeeRefusals) {
  const SoftPayer soft = NewSoftPayer("soft-1");
  // No pending request yet.
  wire::PaymentRequest none;
  none.payee_device = pki_.IssueDevice("watch-b", wire::testing::RawKey(soft.key));
  none.payee_nonce = Bytes(16, 1);
  none.amount_fen = 1'000;
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, BodyFor(soft, none)))).sw, k6985);
  const wire::PaymentRequest request = Request(*b_, 1'000);
  // Nonce mismatch, wrong amount, wrong currency, another payee.
  wire::OfflineTransferBody body = BodyFor(soft, request);
  body.payee_nonce[0] ^= 1;
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, body))).sw, k6A80);
  body = BodyFor(soft, request);
  body.amount_fen = 999;
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, body))).sw, k6A80);
  body = BodyFor(soft, request);
  body.currency_numeric = 840;
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, body))).sw, k6A80);
  body = BodyFor(soft, request);
  body.payee_device_id = "watch-z";
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, body))).sw, k6A80);
  // Bad signature: signed by a key the certificate does not hold.
  SoftPayer impostor = soft;
  impostor.key = wire::testing::NewKey(pki_.scheme);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(impostor, BodyFor(soft, request)))).sw, k6982);
  // A chain not from the root.
  TestPki rogue(pki_.scheme);
  SoftPayer rogue_payer{wire::testing::NewKey(pki_.scheme), {}};
  rogue_payer.cert = rogue.IssueDevice("soft-1", wire::testing::RawKey(rogue_payer.key), 9999);
  const Bytes rogue_transfer = Concat({*wire::SignOfflineTransfer(BodyFor(rogue_payer, request), rogue_payer.key),
                                       *wire::EncodeCertificateChain(rogue.Chain(rogue_payer.cert))});
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, rogue_transfer)).sw, k6982);
  // Malformed.
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Bytes{0xE2, 0x00})).sw, k6A80);
  EXPECT_EQ(b_->Status().balance_fen, 0);
  // The genuine one is accepted once; the same transfer again is refused (no request pending,
  // and after a new request, already received).
  const Bytes genuine = Signed(soft, BodyFor(soft, request));
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, genuine)).sw, k9000);
  EXPECT_EQ(b_->Status().balance_fen, 1'000);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, genuine)).sw, k6985);
  (void)Request(*b_, 1'000);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, genuine)).sw, k6985);
  EXPECT_EQ(b_->Status().balance_fen, 1'000);
}

TEST_P(DcepRefusalTest, PayeeRefusesARevokedPayer) {
  const SoftPayer soft = NewSoftPayer("soft-2");
  ASSERT_EQ(Sync(*b_, 0, {"soft-2"}).sw, k9000);
  const wire::PaymentRequest request = Request(*b_, 500);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, BodyFor(soft, request)))).sw, k6283);
  EXPECT_EQ(b_->Status().balance_fen, 0);
}

TEST_P(DcepRefusalTest, RevocationNamesTheIssuerToo) {
  // The merged list names each device with its operator: device ids are unique per operator only,
  // so "soft-3" revoked at another operator does not stop this operator's "soft-3".
  const SoftPayer soft = NewSoftPayer("soft-3");
  ASSERT_EQ(Sync(*b_, 0, {"soft-3", "watch-b"}, 1, "abc").sw, k9000);
  wire::PaymentRequest request = Request(*b_, 500);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, BodyFor(soft, request)))).sw, k9000);
  EXPECT_EQ(b_->Status().balance_fen, 500);
  ASSERT_EQ(Sync(*b_, 0, {"soft-3"}, 2).sw, k9000);
  request = Request(*b_, 500);
  EXPECT_EQ(b_->Field(Command(kDcepInsReceive, Signed(soft, BodyFor(soft, request, 2)))).sw, k6283);
  EXPECT_EQ(b_->Status().balance_fen, 500);
  // An older list version is refused (lists only grow).
  EXPECT_EQ(Sync(*b_, 0, {}, 1).sw, k6A80);
}

TEST_P(DcepRefusalTest, UnsyncedTransfersExpire) {
  // Both watches synced at kNow; the payment carries b's operator time.
  ASSERT_EQ(Sync(*b_, 0).sw, k9000);
  ASSERT_FALSE(Pay(*a_, *b_, 1'000).empty());
  const std::int64_t limit = wire::testing::kNow + wire::testing::kUnsyncedMaxAgeSeconds;
  // b now holds an unsynced record of kNow: at the limit it still asks to be paid, past it not.
  EXPECT_EQ(b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10, 156, limit))).sw, k9000);
  EXPECT_EQ(b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10, 156, limit + 1))).sw,
            k6A84);
  // a (payer) refuses a request dated past the limit of its own unsynced record.
  ResponseApdu late = a_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10, 156, limit + 1)));
  ASSERT_EQ(late.sw, k6A84);  // a's own sent record expired too
  ASSERT_EQ(Sync(*a_, 1).sw, k9000);  // a syncs: its log is acknowledged and pruned
  late = a_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10, 156, limit + 1)));
  EXPECT_EQ(late.sw, k9000);
  EXPECT_EQ(b_->Field(Command(kDcepInsPay, late.data)).sw, k6A84);  // b still unsynced
  EXPECT_EQ(b_->Status().counter, 0u);
  ASSERT_EQ(Sync(*b_, 1).sw, k9000);
  EXPECT_EQ(b_->Field(Command(kDcepInsPay, late.data)).sw, k9000);
}

TEST_P(DcepRefusalTest, PayeeRefusesAboveItsBalanceCap) {
  // The request itself is refused when the credit could not fit (cap 100,000).
  EXPECT_EQ(b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(100'001))).sw, k6A84);
  EXPECT_EQ(b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(100, 840))).sw, k6A80);
}

TEST_P(DcepRefusalTest, PayerRefusals) {
  // Insufficient balance (60,000 loaded; payment cap 20,000; value cap 50,000; 5 payments).
  StatusWord sw;
  EXPECT_TRUE(Pay(*a_, *b_, 20'001, &sw).empty());
  EXPECT_EQ(sw, k6A84);  // above the per-payment cap
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(Pay(*a_, *b_, 20'000).empty());
  EXPECT_TRUE(Pay(*a_, *b_, 10'001, &sw).empty());
  EXPECT_EQ(sw, k6A84);  // value before sync would exceed 50,000
  ASSERT_FALSE(Pay(*a_, *b_, 10'000).empty());
  ASSERT_EQ(Sync(*a_, 3).sw, k9000);  // counters reset
  EXPECT_EQ(a_->Status(), (DcepPurseStatus{10'000, 3, 0, 0}));
  EXPECT_TRUE(Pay(*a_, *b_, 10'001, &sw).empty());
  EXPECT_EQ(sw, k9401);  // insufficient balance
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Pay(*a_, *b_, 1).empty());
  EXPECT_TRUE(Pay(*a_, *b_, 1, &sw).empty());
  EXPECT_EQ(sw, k6A84);  // 5 payments before a sync
  EXPECT_EQ(a_->Status(), (DcepPurseStatus{9'995, 8, 5, 5}));
  // A malformed request, and a request whose currency is not CNY.
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, Bytes{0xE1, 0x01, 0x00})).sw, k6A80);
  ResponseApdu r = b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10)));
  auto request = *wire::ParsePaymentRequest(r.data);
  request.currency_numeric = 840;
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, *wire::EncodePaymentRequest(request))).sw, k6A80);
  EXPECT_EQ(a_->Status().counter, 8u);  // nothing was signed
}

TEST_P(DcepRefusalTest, PayerRefusesRevokedOrRogueOrSelfPayee) {
  ResponseApdu r = b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10)));
  const Bytes request = r.data;
  // A payee certified under another root.
  TestPki rogue(pki_.scheme);
  auto parsed = *wire::ParsePaymentRequest(request);
  wire::PaymentRequest rogue_request = parsed;
  rogue_request.payee_device = rogue.IssueDevice("watch-b", parsed.payee_device.body.public_key);
  rogue_request.payee_operator = rogue.operator_cert;
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, *wire::EncodePaymentRequest(rogue_request))).sw, k6982);
  // Paying oneself.
  ResponseApdu own = a_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10)));
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, own.data)).sw, k6A80);
  // The payee is revoked.
  ASSERT_EQ(Sync(*a_, 0, {"watch-b"}).sw, k9000);
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, request)).sw, k6283);
  EXPECT_EQ(a_->Status().counter, 0u);
}

TEST_P(DcepRefusalTest, BlockedWalletRefusesToPay) {
  ASSERT_EQ(Sync(*a_, 0, {"watch-a"}).sw, k9000);
  ResponseApdu r = b_->Wallet(Command(kDcepInsCreatePaymentRequest, RequestData(10)));
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, r.data)).sw, k6283);
  EXPECT_EQ(Load(*a_, 2, 10).sw, k6283);
  // Still readable, and it stays blocked across a restart.
  a_->Reopen();
  EXPECT_EQ(a_->Status().balance_fen, 60'000);
  EXPECT_EQ(a_->Field(Command(kDcepInsPay, r.data)).sw, k6283);
}

TEST_P(DcepRefusalTest, LoadRules) {
  // The same order again: same answer, no second credit.
  wire::LoadOrderBody body{"watch-a", 1, 60'000, 156, pki_.operator_cert.body.serial};
  ResponseApdu again = a_->Wallet(Command(kDcepInsLoad, *wire::IssueLoadOrder(body, pki_.operator_key)));
  // Re-signing gives the same body bytes; the retry is recognised by its body.
  EXPECT_EQ(again.sw, k9000);
  EXPECT_EQ(BytesToUint(again.data), 60'000u);
  EXPECT_EQ(Load(*a_, 3, 10).sw, k6985);       // skips sequence 2
  EXPECT_EQ(Load(*a_, 2, 40'001).sw, k6A84);   // balance cap 100,000
  body = {"watch-b", 2, 10, 156, pki_.operator_cert.body.serial};
  EXPECT_EQ(a_->Wallet(Command(kDcepInsLoad, *wire::IssueLoadOrder(body, pki_.operator_key))).sw,
            k6A80);  // another device's order
  body = {"watch-a", 2, 10, 156, pki_.operator_cert.body.serial};
  const auto forger = wire::testing::NewKey(pki_.scheme);
  EXPECT_EQ(a_->Wallet(Command(kDcepInsLoad, *wire::IssueLoadOrder(body, forger))).sw, k6982);
  EXPECT_EQ(Load(*a_, 2, 40'000).sw, k9000);
  EXPECT_EQ(a_->Status().balance_fen, 100'000);
}

TEST_P(DcepRefusalTest, SyncRefusals) {
  wire::SyncAckBody body{"watch-a", 0, wire::testing::kNow, 1, {}};
  const auto forger = wire::testing::NewKey(pki_.scheme);
  EXPECT_EQ(a_->Wallet(Command(kDcepInsSync, *wire::IssueSyncAck(body, forger))).sw, k6982);
  body.log_sequence_acknowledged = 5;  // beyond the log
  EXPECT_EQ(a_->Wallet(Command(kDcepInsSync, *wire::IssueSyncAck(body, pki_.operator_key))).sw,
            k6A80);
  EXPECT_EQ(Sync(*a_, 0, {}, 3).sw, k9000);
  EXPECT_EQ(Sync(*a_, 0, {}, 2).sw, k6A80);  // an older revocation list
}

TEST_P(DcepRefusalTest, PersonalisationAndChannels) {
  auto d = NewWatch("watch-d", false);
  // No wallet yet: SELECT fails, the wallet channel answers 6A82.
  EXPECT_EQ(HexEncode(d->se().TransmitToDcepWallet(*emv::EncodeCommandApdu(Command(kDcepInsGetData, {}, 2)))),
            "6A82");
  ASSERT_TRUE(d->se().InstallDcepApplet().ok());
  EXPECT_EQ(d->se().InstallDcepApplet().code(), ErrorCode::kAlreadyExists);
  // Not personalised: PAY and PUT CERTIFICATES need conditions.
  EXPECT_EQ(d->Wallet(Command(kDcepInsPay, Bytes{0xE1, 0x00})).sw, k6985);
  EXPECT_EQ(d->Wallet(Command(kDcepInsGetData, {}, kDcepDataPublicKey)).sw, k6A88);
  // GENERATE KEY PAIR over APDUs: 80 root scheme | 86 root key.
  const Bytes root = Concat({*emv::EncodeTlv(0x80, Bytes{wire::SchemeByte(pki_.scheme)}),
                             *emv::EncodeTlv(0x86, wire::testing::RawKey(pki_.root_key))});
  ResponseApdu generated =
      d->Wallet(Command(kDcepInsGenerateKeyPair, root, wire::SchemeByte(pki_.scheme)));
  ASSERT_EQ(generated.sw, k9000);
  EXPECT_EQ(generated.data.size(), wire::RawPublicKeyBytes(pki_.scheme));
  EXPECT_EQ(d->Wallet(Command(kDcepInsGenerateKeyPair, root, wire::SchemeByte(pki_.scheme))).sw,
            k6985);
  EXPECT_EQ(d->Wallet(Command(kDcepInsGetData, {}, kDcepDataPublicKey)).data, generated.data);
  // A certificate for another key is refused; for the generated key it is accepted.
  const wire::Certificate other = pki_.IssueDevice("watch-d", wire::testing::RawKey(wire::testing::NewKey(pki_.scheme)));
  EXPECT_EQ(d->Wallet(Command(kDcepInsPutCertificates, *wire::EncodeCertificateChain(pki_.Chain(other)))).sw,
            k6982);
  const wire::Certificate mine = pki_.IssueDevice("watch-d", generated.data);
  EXPECT_EQ(d->Wallet(Command(kDcepInsPutCertificates, *wire::EncodeCertificateChain(pki_.Chain(mine)))).sw,
            k9000);
  EXPECT_EQ(d->Wallet(Command(kDcepInsGetData, {}, kDcepDataDeviceCertificate)).data, mine.encoded);
  // Not in the PPSE.
  const Bytes ppse = d->se().Transmit(*HexDecode("00A404000E325041592E5359532E444446303100"));
  EXPECT_EQ(HexEncode(ppse).find(HexEncode(kDcepAid)), std::string::npos);
  // One session: the wallet's use ends the terminal's.
  const Bytes select = Concat({Bytes{0x00, 0xA4, 0x04, 0x00, sizeof(kDcepAid)}, kDcepAid, Bytes{0x00}});
  EXPECT_EQ(HexEncode(ByteView(d->se().Transmit(select)).last(2)), "9000");
  (void)d->Wallet(Command(kDcepInsGetData, {}, kDcepDataPurseStatus));
  EXPECT_EQ(HexEncode(d->se().Transmit(*emv::EncodeCommandApdu(Command(kDcepInsGetData, {}, 2)))),
            "6985");
}

INSTANTIATE_TEST_SUITE_P(Sm2, DcepRefusalTest,
                         ::testing::Values(crypto::SignatureScheme::kSm2Sm3));

}  // namespace
}  // namespace tapstack::device
