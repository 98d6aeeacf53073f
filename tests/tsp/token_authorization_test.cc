// TokenAuthorization on SQLite and PostgreSQL: a token use is approved only for an active token,
// inside its domain, with an ARQC that verifies under the token's keys and an ATC never seen
// before (also across a restart); refusals are audited, spend no ATC and never name the token
// number or PAN.
#include "tsp/token_authorization.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/hex.h"
#include "emv/arqc_engine.h"
#include "emv/cryptogram_profile.h"
#include "emv/tlv.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store/group_commit.h"
#include "tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using testing::kTestPanMastercard;
using testing::TestPan;

// IMK-AC of the published CVN-MC-20 vector (tests/vectors/emv_crypto.json, pyemv): a test key.
constexpr std::string_view kTestImk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view kDevice = "se-0001";

Bytes Hex(std::string_view hex) { return *HexDecode(hex); }

const emv::CryptogramProfile& Profile() { return *emv::FindCryptogramProfile("mc-cvn20"); }

TokenRangeKeys DemoRangeKeys(std::string low = "49990000", std::string high = "49990099") {
  return {std::move(low), std::move(high), "mc-cvn20", crypto::SecretBytes(Hex(kTestImk))};
}

// What the card (and the kernel) put in DE55 for one ARQC: the Book 2 minimum data, CID, ATC,
// an M/Chip CVN 20 IAD (payment_applet.cc) and the cryptogram over the token number.
struct Tap {
  std::uint16_t atc = 1;
  std::int64_t amount_minor = 1234;
  std::uint16_t currency = 156;
  std::uint8_t cid = 0x80;
  std::string psn = "00";
};

class TokenAuthorizationTest : public testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    OpenAtcStore();
    ASSERT_NO_FATAL_FAILURE(OpenAuthorization());
    token_ = ActiveToken(kTestPanMastercard, std::string(kDevice));
    ASSERT_FALSE(token_.token_number.empty());
  }
  void TearDown() override {
    auth_.reset();
    if (atc_store_) (void)atc_store_->Close();
    atc_store_.reset();
    if (GetParam() == store::Dialect::kPostgres && !pg_url_.empty()) {
      store::testing::PostgresAdmin(pg_url_, "DROP SCHEMA IF EXISTS \"" + AtcRole() + "\" CASCADE");
    }
    VaultTest::TearDown();
  }

  std::string AtcRole() const { return role_ + "_atc"; }
  // The ATC table's own database (a store records one migration list per database).
  void OpenAtcStore() {
    if (atc_store_) (void)atc_store_->Close();
    auto opened = GetParam() == store::Dialect::kPostgres
                      ? store::OpenPostgres(pg_url_, AtcRole())
                      : store::OpenSqlite(dir_->path(), AtcRole());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    atc_store_ = std::move(*opened);
  }
  void OpenAuthorization() {
    TokenAuthorizationOptions options;
    options.ranges.push_back(DemoRangeKeys());
    options.clock = &clock_;
    auto auth = TokenAuthorization::Open(*vault_, *atc_store_, std::move(options));
    ASSERT_TRUE(auth.ok()) << auth.status().ToString();
    auth_ = std::move(*auth);
  }

  emv::ArqcEngine Card() const {
    return *emv::ArqcEngine::Create(Profile(), crypto::SecretBytes(Hex(kTestImk)));
  }

  Bytes Icc(const Tap& tap) {
    emv::TagValues t;
    EXPECT_TRUE(t.Set(0x9F02, *BcdEncodeFixed(std::to_string(tap.amount_minor), 6)).ok());
    EXPECT_TRUE(t.Set(0x9F03, Hex("000000000000")).ok());
    EXPECT_TRUE(t.Set(0x9F1A, Hex("0156")).ok());
    EXPECT_TRUE(t.Set(0x95, Hex("0000000000")).ok());
    EXPECT_TRUE(t.Set(0x5F2A, *BcdEncodeFixed(std::to_string(tap.currency), 2)).ok());
    EXPECT_TRUE(t.Set(0x9A, Hex("260101")).ok());
    EXPECT_TRUE(t.Set(0x9C, Hex("00")).ok());
    EXPECT_TRUE(t.Set(0x9F37, Hex("1A2B3C4D")).ok());
    EXPECT_TRUE(t.Set(0x82, Hex("1980")).ok());
    const Bytes iad = Hex("0114A00000000000000000000000000000FF");
    emv::ArqcInput in;
    in.pan = token_.token_number;
    in.psn = tap.psn;
    in.atc = tap.atc;
    in.iad = iad;
    in.tags = emv::TagSources{&t};
    Result<crypto::ApplicationCryptogram> ac = Card().GenerateArqc(in);
    EXPECT_TRUE(ac.ok()) << ac.status().ToString();
    Bytes de55;
    EXPECT_TRUE(emv::AppendTlv(de55, 0x9F26, *ac).ok());
    EXPECT_TRUE(emv::AppendTlv(de55, 0x9F27, ByteView(&tap.cid, 1)).ok());
    EXPECT_TRUE(emv::AppendTlv(de55, 0x9F10, iad).ok());
    EXPECT_TRUE(emv::AppendTlv(de55, 0x9F36, UintToBytes(tap.atc, 2)).ok());
    for (const emv::TagValues::Entry& e : t.entries()) {
      EXPECT_TRUE(emv::AppendTlv(de55, e.tag, e.value).ok());
    }
    return de55;
  }

  TokenUse Use(const Bytes& icc, std::string_view de22 = "071") {
    TokenUse use;
    use.token_number = token_.token_number;
    use.pos_entry_mode = de22;
    use.icc_data = icc;
    use.amount_minor = 1234;
    use.currency_numeric = 156;
    return use;
  }

  // The refusal: its code, no token number or PAN in the message, no ATC spent, and an audit
  // entry "token_auth_refused" with `reason`.
  void ExpectRefused(const Result<TokenAuthorizationResult>& r, ErrorCode code,
                     std::string_view reason) {
    ASSERT_FALSE(r.ok()) << "approved, expected " << reason;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_EQ(r.status().message().find(token_.token_number), std::string::npos);
    EXPECT_EQ(r.status().message().find(kTestPanMastercard), std::string::npos);
    EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, atc_before_);
    auto head = vault_->audit_log().Head();
    ASSERT_TRUE(head.ok());
    auto last = vault_->audit_log().Read(head->seq, 1);
    ASSERT_TRUE(last.ok() && last->size() == 1);
    EXPECT_EQ((*last)[0].event.action, "token_auth_refused");
    EXPECT_EQ((*last)[0].event.subject, token_.token_id);
    EXPECT_EQ((*last)[0].event.detail, "reason=" + std::string(reason));
  }

  std::unique_ptr<store::Store> atc_store_;
  std::unique_ptr<TokenAuthorization> auth_;
  TokenRecord token_;
  std::uint32_t atc_before_ = 0;
};

TEST_P(TokenAuthorizationTest, ApprovesAValidArqcWithThePanAndAnArpcTheCardAccepts) {
  const Bytes icc = Icc({.atc = 7});
  auto r = auth_->Authorize(Use(icc));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->funding.pan, TestPan(kTestPanMastercard));
  EXPECT_EQ(r->funding.pan_expiry, "2812");
  EXPECT_EQ(r->funding.record.token_id, token_.token_id);
  EXPECT_EQ(r->atc, 7);
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 7u);

  // Tag 91 for method 1 = ARPC (8) || ARC "3030"; the card's own check accepts it, and rejects
  // it for another ARQC.
  ASSERT_EQ(r->issuer_authentication_data.size(), 10u);
  EXPECT_EQ(HexEncode(ByteView(r->issuer_authentication_data).subspan(8)), "3030");
  auto tree = emv::DecodeTlv(icc);
  ASSERT_TRUE(tree.ok());
  emv::TagValues tags;
  ASSERT_TRUE(tags.AddFromTree(*tree).ok());
  emv::ArqcInput in;
  in.pan = token_.token_number;
  in.psn = "00";
  in.atc = 7;
  in.iad = *tags.Get(0x9F10);
  in.tags = emv::TagSources{&tags};
  EXPECT_TRUE(Card().VerifyArpc(in, *tags.Get(0x9F26), r->issuer_authentication_data).ok());
  Bytes other_arqc(tags.Get(0x9F26)->begin(), tags.Get(0x9F26)->end());
  other_arqc[0] ^= 0x01;
  EXPECT_EQ(Card().VerifyArpc(in, other_arqc, r->issuer_authentication_data).code(),
            ErrorCode::kCryptoFailure);

  // The vault audited the de-tokenisation with the ATC.
  auto head = vault_->audit_log().Head();
  auto last = vault_->audit_log().Read(head->seq, 1);
  ASSERT_TRUE(last.ok() && last->size() == 1);
  EXPECT_EQ((*last)[0].event.action, "detokenize");
  EXPECT_EQ((*last)[0].event.subject, token_.token_id);
  EXPECT_NE((*last)[0].event.detail.find("atc=7"), std::string::npos);
  EXPECT_TRUE(vault_->audit_log().Verify()->intact);
}

TEST_P(TokenAuthorizationTest, AReplayedAtcIsRefusedAlsoAfterARestart) {
  const Bytes icc = Icc({.atc = 3});
  ASSERT_TRUE(auth_->Authorize(Use(icc)).ok());
  atc_before_ = 3;
  ExpectRefused(auth_->Authorize(Use(icc)), ErrorCode::kFailedPrecondition, "atc");
  EXPECT_NE(auth_->Authorize(Use(icc)).status().message().find("replay"), std::string::npos);

  // Restart: a new connection and a new TokenAuthorization see the recorded ATC.
  auth_.reset();
  OpenAtcStore();
  ASSERT_NO_FATAL_FAILURE(OpenAuthorization());
  ExpectRefused(auth_->Authorize(Use(icc)), ErrorCode::kFailedPrecondition, "atc");
  // Out of order within the window is fine once; the next ATC too.
  EXPECT_TRUE(auth_->Authorize(Use(Icc({.atc = 2}))).ok());
  EXPECT_TRUE(auth_->Authorize(Use(Icc({.atc = 4}))).ok());
  atc_before_ = 4;
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 2}))), ErrorCode::kFailedPrecondition, "atc");
  // Too far ahead (an emulated card counting on its own).
  ExpectRefused(
      auth_->Authorize(Use(Icc({.atc = static_cast<std::uint16_t>(4 + kAtcAheadMax + 1)}))),
      ErrorCode::kFailedPrecondition, "atc");
}

TEST_P(TokenAuthorizationTest, ARepeatOfTheRequestThatSpentTheAtcIsNotAReplay) {
  // The acquirer repeats a request whose answer was lost (0101, same DE32/41/11/7): the same
  // cryptogram under the same repeat key passes again, spending nothing, also after a restart.
  const Bytes icc = Icc({.atc = 9});
  TokenUse first = Use(icc);
  first.repeat_key = "48021111|TERM0001|000042|1122093000";
  ASSERT_TRUE(auth_->Authorize(first).ok());
  auto repeated = auth_->Authorize(first);
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  EXPECT_EQ(repeated->atc, 9);
  EXPECT_EQ(repeated->funding.pan.reveal(), kTestPanMastercard);
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 9u);
  auto head = vault_->audit_log().Head();
  ASSERT_TRUE(head.ok());
  auto last = vault_->audit_log().Read(head->seq, 1);
  ASSERT_TRUE(last.ok() && last->size() == 1);
  EXPECT_NE((*last)[0].event.detail.find("atc=9 arqc=verified channel=nfc repeat"), std::string::npos)
      << (*last)[0].event.detail;
  auth_.reset();
  OpenAtcStore();
  ASSERT_NO_FATAL_FAILURE(OpenAuthorization());
  EXPECT_TRUE(auth_->Authorize(first).ok());

  // The same cryptogram in another request (another STAN), or with no key, is a replay.
  atc_before_ = 9;
  TokenUse other = first;
  other.repeat_key = "48021111|TERM0001|000043|1122093001";
  ExpectRefused(auth_->Authorize(other), ErrorCode::kFailedPrecondition, "atc");
  ExpectRefused(auth_->Authorize(Use(icc)), ErrorCode::kFailedPrecondition, "atc");
  // Later taps of the phone do not make it a replay while ATC 9 is in the window; once it has
  // fallen below the window, it is refused like any ATC there.
  for (std::uint16_t atc = 10; atc <= 9 + kAtcWindow; ++atc) {
    const Bytes later_icc = Icc({.atc = atc});
    TokenUse later = Use(later_icc);
    const std::string key = "48021111|TERM0001|" + std::to_string(100'000 + atc) + "|1122093100";
    later.repeat_key = key;
    auto later_result = auth_->Authorize(later);
    ASSERT_TRUE(later_result.ok()) << later_result.status().ToString();
  }
  EXPECT_TRUE(auth_->Authorize(first).ok()) << "ATC 9 is the window's lowest";
  const Bytes past_icc = Icc({.atc = static_cast<std::uint16_t>(10 + kAtcWindow)});
  TokenUse past = Use(past_icc);
  past.repeat_key = "48021111|TERM0001|200000|1122093200";
  ASSERT_TRUE(auth_->Authorize(past).ok());
  atc_before_ = 10 + kAtcWindow;
  ExpectRefused(auth_->Authorize(first), ErrorCode::kFailedPrecondition, "atc");
  auto rows = atc_store_->QueryRow("SELECT COUNT(*) AS n FROM tsp_token_atc_uses WHERE token_id = ?",
                                   {token_.token_id});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows->GetInt64("n"), static_cast<std::int64_t>(kAtcWindow) + 1) << "the window's ATCs only";
}

TEST_P(TokenAuthorizationTest, ARepeatOfAPaymentAcceptedBeforeASuspensionStillPasses) {
  // The phone tapped, the answer was lost, the wallet suspended the token (a lost phone), then the
  // terminal repeated the request: the payment was accepted before the suspension, so its repeat
  // passes; a new tap, or the same cryptogram in another request, does not.
  const Bytes icc = Icc({.atc = 4});
  TokenUse tap = Use(icc);
  tap.repeat_key = "48021111|TERM0001|000050|1122093000";
  ASSERT_TRUE(auth_->Authorize(tap).ok());
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kSuspend,
                                {InitiatorKind::kIssuer, "bank-a"}, "lost phone")
                  .ok());
  auto repeated = auth_->Authorize(tap);
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  EXPECT_EQ(repeated->funding.pan.reveal(), kTestPanMastercard);
  atc_before_ = 4;
  TokenUse other = tap;
  other.repeat_key = "48021111|TERM0001|000051|1122093001";
  ExpectRefused(auth_->Authorize(other), ErrorCode::kFailedPrecondition, "state_suspended");
  const Bytes next_icc = Icc({.atc = 5});
  TokenUse next = Use(next_icc);
  next.repeat_key = "48021111|TERM0001|000052|1122093002";
  ExpectRefused(auth_->Authorize(next), ErrorCode::kFailedPrecondition, "state_suspended");
}

TEST_P(TokenAuthorizationTest, OnlyActiveTokensAreAuthorised) {
  const Bytes icc = Icc({.atc = 1});
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kSuspend,
                                {InitiatorKind::kIssuer, "bank-a"}, "lost phone")
                  .ok());
  ExpectRefused(auth_->Authorize(Use(icc)), ErrorCode::kFailedPrecondition, "state_suspended");
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kResume,
                                {InitiatorKind::kIssuer, "bank-a"}, "found")
                  .ok());
  // The refused use spent nothing: the same tap now passes.
  EXPECT_TRUE(auth_->Authorize(Use(icc)).ok());
  atc_before_ = 1;
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kDelete,
                                {InitiatorKind::kIssuer, "bank-a"}, "C")
                  .ok());
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 2}))), ErrorCode::kFailedPrecondition,
                "state_deleted");

  // Inactive (pending ID&V) and unknown tokens.
  auto pending = vault_->Tokenize(TestPan(testing::kTestPanVisa), testing::DemoRequest());
  ASSERT_TRUE(pending.ok());
  token_ = pending->record;
  atc_before_ = 0;
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1}))), ErrorCode::kFailedPrecondition,
                "state_inactive");
  std::string unknown = token_.token_number;
  unknown[10] = unknown[10] == '0' ? '1' : '0';
  const Bytes icc1 = Icc({.atc = 1});  // TokenUse views it: it must outlive the use
  TokenUse use = Use(icc1);
  use.token_number = unknown;
  const auto r = auth_->Authorize(use);
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.status().message().find(unknown), std::string::npos);
}

TEST_P(TokenAuthorizationTest, DomainRestrictionControls) {
  const Bytes icc = Icc({.atc = 1});
  // Channel: manual key entry, magnetic stripe, contact chip, credential on file.
  for (std::string_view de22 : {"011", "902", "051", "100"}) {
    ExpectRefused(auth_->Authorize(Use(icc, de22)), ErrorCode::kFailedPrecondition, "channel");
  }
  ExpectRefused(auth_->Authorize(Use(icc, "7x1")), ErrorCode::kInvalidArgument, "de22_malformed");
  // In-app must name its device; it must be the token's device.
  ExpectRefused(auth_->Authorize(Use(icc, "812")), ErrorCode::kFailedPrecondition,
                "device_missing");
  TokenUse use = Use(icc, "812");
  use.device_id = "se-0002";
  ExpectRefused(auth_->Authorize(use), ErrorCode::kFailedPrecondition, "device");
  use = Use(icc);
  use.requestor_id = testing::kOtherWalletTrid;
  ExpectRefused(auth_->Authorize(use), ErrorCode::kFailedPrecondition, "requestor");
  use = Use(icc);
  use.token_expiry = "2501";
  ExpectRefused(auth_->Authorize(use), ErrorCode::kFailedPrecondition, "expiry");

  // Inside the domain: in-app from the token's device for its requestor, with its expiry.
  use = Use(icc, "812");
  use.device_id = kDevice;
  use.requestor_id = testing::kWalletTrid;
  use.token_expiry = token_.token_expiry;
  EXPECT_TRUE(auth_->Authorize(use).ok());
}

TEST_P(TokenAuthorizationTest, BadCryptogramsAreRefusedWithoutSpendingTheAtc) {
  Bytes tampered = Icc({.atc = 1});
  tampered[3] ^= 0x01;  // inside 9F26's value (9F 26 08 v...)
  ExpectRefused(auth_->Authorize(Use(tampered)), ErrorCode::kInvalidArgument, "arqc_invalid");
  // A PSN the card did not use, an AAC sent online, the amount or currency not the request's.
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .psn = "01"}))), ErrorCode::kInvalidArgument,
                "arqc_invalid");
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .cid = 0x00}))), ErrorCode::kInvalidArgument,
                "not_arqc");
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .amount_minor = 1}))),
                ErrorCode::kInvalidArgument, "de55_data");
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .currency = 840}))),
                ErrorCode::kInvalidArgument, "de55_data");
  ExpectRefused(auth_->Authorize(Use(Bytes())), ErrorCode::kInvalidArgument, "no_cryptogram");
  ExpectRefused(auth_->Authorize(Use(Hex("9F2608AABB"))), ErrorCode::kInvalidArgument,
                "de55_malformed");
  ExpectRefused(auth_->Authorize(Use(Hex("9F270180"))), ErrorCode::kInvalidArgument, "de55_data");
  // After all that, the genuine tap with ATC 1 still passes.
  EXPECT_TRUE(auth_->Authorize(Use(Icc({.atc = 1}))).ok());
}

// A consumer-presented QR code (DE22 "03x", acquirer/consumer_presented.h): an ARQC is required
// as for a tap, no device id is, and 9F02 may be zero because the phone made the code before the
// merchant entered the amount; the issuer then authorises DE4. Zero is accepted on that channel
// only, and 5F2A must still be DE49's.
TEST_P(TokenAuthorizationTest, ConsumerPresentedQrMayCarryAZeroAmountAndNeedsNoDevice) {
  const Bytes code = Icc({.atc = 1, .amount_minor = 0});
  // Zero outside the QR channel: the cryptogram was not made for DE4.
  ExpectRefused(auth_->Authorize(Use(code, "071")), ErrorCode::kInvalidArgument, "de55_data");
  // A QR code made for another amount than DE4, or another currency, or without DE55.
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .amount_minor = 99}), "032")),
                ErrorCode::kInvalidArgument, "de55_data");
  ExpectRefused(auth_->Authorize(Use(Icc({.atc = 1, .amount_minor = 0, .currency = 840}), "032")),
                ErrorCode::kInvalidArgument, "de55_data");
  ExpectRefused(auth_->Authorize(Use(Bytes(), "032")), ErrorCode::kInvalidArgument,
                "no_cryptogram");
  Bytes tampered = code;
  tampered[3] ^= 0x01;  // inside 9F26
  ExpectRefused(auth_->Authorize(Use(tampered, "032")), ErrorCode::kInvalidArgument,
                "arqc_invalid");
  // The device, when named, must still be the token's.
  TokenUse other_device = Use(code, "032");
  other_device.device_id = "se-0002";
  ExpectRefused(auth_->Authorize(other_device), ErrorCode::kFailedPrecondition, "device");

  // The genuine code: approved for DE4 (1234) without DE48 DI, with an ARPC, ATC spent once.
  auto r = auth_->Authorize(Use(code, "032"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->funding.pan, TestPan(kTestPanMastercard));
  EXPECT_EQ(r->atc, 1);
  EXPECT_EQ(r->issuer_authentication_data.size(), 10u);
  auto head = vault_->audit_log().Head();
  auto last = vault_->audit_log().Read(head->seq, 1);
  ASSERT_TRUE(last.ok() && last->size() == 1);
  EXPECT_EQ((*last)[0].event.action, "detokenize");
  EXPECT_NE((*last)[0].event.detail.find("channel=qr"), std::string::npos)
      << (*last)[0].event.detail;
  // The same code again (a second scan, a photo of it): the ATC was used.
  atc_before_ = 1;
  ExpectRefused(auth_->Authorize(Use(code, "032")), ErrorCode::kFailedPrecondition, "atc");
  // A QR code made for the exact amount is fine too.
  EXPECT_TRUE(auth_->Authorize(Use(Icc({.atc = 2}), "032")).ok());
}

// A credit to the card (DE3 "20xxxx": a refund, a wallet's withdrawal to it) has no cryptogram:
// the funding PAN is resolved from any entry mode, without DE55 and without spending an ATC,
// audited like any use; device and requestor, when named, must match.
TEST_P(TokenAuthorizationTest, CreditsResolveThePanWithoutACryptogramOrAnAtc) {
  TokenUse credit = Use(Bytes(), "011");  // keyed at the till, no DE55
  credit.processing_code = "200000";
  auto r = auth_->Authorize(credit);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->funding.pan, TestPan(kTestPanMastercard));
  EXPECT_EQ(r->funding.record.token_id, token_.token_id);
  EXPECT_EQ(r->atc, 0);
  EXPECT_TRUE(r->issuer_authentication_data.empty());
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 0u);
  auto head = vault_->audit_log().Head();
  auto last = vault_->audit_log().Read(head->seq, 1);
  ASSERT_TRUE(last.ok() && last->size() == 1);
  EXPECT_EQ((*last)[0].event.action, "detokenize");
  EXPECT_EQ((*last)[0].event.subject, token_.token_id);
  EXPECT_EQ((*last)[0].event.detail, "purpose=credit processing=200000 state=active");

  // Any entry mode, even a malformed DE22; a DE55 sent along is ignored (no ATC spent).
  for (std::string_view de22 : {"071", "902", "7x1", ""}) {
    credit.pos_entry_mode = de22;
    EXPECT_TRUE(auth_->Authorize(credit).ok()) << de22;
  }
  const Bytes icc = Icc({.atc = 9});
  TokenUse with_icc = credit;
  with_icc.icc_data = icc;
  EXPECT_TRUE(auth_->Authorize(with_icc).ok());
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 0u);
  // The same use as a purchase (DE3 "00") is refused: a purchase needs the cryptogram channel.
  TokenUse purchase = credit;
  purchase.pos_entry_mode = "011";
  purchase.processing_code = "000000";
  ExpectRefused(auth_->Authorize(purchase), ErrorCode::kFailedPrecondition, "channel");

  // Device and requestor, when named, must be the token's.
  TokenUse other = credit;
  other.device_id = "se-0002";
  ExpectRefused(auth_->Authorize(other), ErrorCode::kFailedPrecondition, "device");
  other = credit;
  other.requestor_id = testing::kOtherWalletTrid;
  ExpectRefused(auth_->Authorize(other), ErrorCode::kFailedPrecondition, "requestor");
  other = credit;
  other.device_id = kDevice;
  other.requestor_id = testing::kWalletTrid;
  EXPECT_TRUE(auth_->Authorize(other).ok());

  // Deleted and inactive tokens get no credit.
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kDelete,
                                {InitiatorKind::kIssuer, "bank-a"}, "C")
                  .ok());
  ExpectRefused(auth_->Authorize(credit), ErrorCode::kFailedPrecondition, "state_deleted");
  auto pending = vault_->Tokenize(TestPan(testing::kTestPanVisa), testing::DemoRequest());
  ASSERT_TRUE(pending.ok());
  token_ = pending->record;
  TokenUse inactive = credit;
  inactive.token_number = token_.token_number;
  ExpectRefused(auth_->Authorize(inactive), ErrorCode::kFailedPrecondition, "state_inactive");
}

// A suspended token still receives credits (a refund to a card whose phone was lost):
// TokenAuthorization lets the credit through and asks the vault with
// DetokenizeRequest::allow_suspended.
TEST_P(TokenAuthorizationTest, CreditsReachASuspendedToken) {
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kSuspend,
                                {InitiatorKind::kIssuer, "bank-a"}, "lost phone")
                  .ok());
  TokenUse credit = Use(Bytes(), "011");
  credit.processing_code = "200000";
  auto r = auth_->Authorize(credit);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->funding.pan, TestPan(kTestPanMastercard));
  // A purchase on the suspended token is still refused.
  const Bytes icc = Icc({.atc = 1});
  ExpectRefused(auth_->Authorize(Use(icc)), ErrorCode::kFailedPrecondition, "state_suspended");
}

TEST_P(TokenAuthorizationTest, FollowUpsMapThePanWithoutSpendingAnAtc) {
  auto pan = auth_->ResolveFollowUp(token_.token_number, "follow-up mti=0400");
  ASSERT_TRUE(pan.ok()) << pan.status().ToString();
  EXPECT_EQ(pan->pan, TestPan(kTestPanMastercard));
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 0u);
}

// A suspended token (a lost phone) stops new payments, not the follow-ups (reversals, completions,
// advices) of payments made before; a deleted token is refused.
TEST_P(TokenAuthorizationTest, FollowUpsReachASuspendedTokenButNotADeletedOne) {
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kSuspend,
                                {InitiatorKind::kIssuer, "bank-a"}, "lost phone")
                  .ok());
  for (std::string_view purpose : {"follow-up mti=0420", "follow-up mti=0400", "follow-up mti=0220"}) {
    auto follow_up = auth_->ResolveFollowUp(token_.token_number, purpose);
    ASSERT_TRUE(follow_up.ok()) << purpose << ": " << follow_up.status().ToString();
    EXPECT_EQ(follow_up->pan, TestPan(kTestPanMastercard));
  }
  EXPECT_EQ(auth_->AtcStateOf(token_.token_id)->highest, 0u);
  ASSERT_TRUE(vault_
                  ->ChangeState(token_.token_id, LifecycleAction::kDelete,
                                {InitiatorKind::kIssuer, "bank-a"}, "C")
                  .ok());
  EXPECT_FALSE(auth_->ResolveFollowUp(token_.token_number, "follow-up mti=0420").ok());
}

TEST_P(TokenAuthorizationTest, OpenRefusesBadKeyConfiguration) {
  auto open = [&](std::vector<TokenRangeKeys> ranges, const Clock* clock) {
    TokenAuthorizationOptions options;
    options.ranges = std::move(ranges);
    options.clock = clock;
    return TokenAuthorization::Open(*vault_, *atc_store_, std::move(options)).status();
  };
  auto ranges = [](auto... r) {
    std::vector<TokenRangeKeys> v;
    (v.push_back(std::move(r)), ...);
    return v;
  };
  EXPECT_EQ(open({}, &clock_).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(open(ranges(DemoRangeKeys()), nullptr).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(open(ranges(DemoRangeKeys("4999000", "49990099")), &clock_).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(open(ranges(DemoRangeKeys("49990099", "49990000")), &clock_).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(open(ranges(DemoRangeKeys(), DemoRangeKeys("49990050", "49990150")), &clock_).code(),
            ErrorCode::kInvalidArgument);
  TokenRangeKeys unknown = DemoRangeKeys();
  unknown.profile_name = "mc-cvn99";
  EXPECT_EQ(open(ranges(std::move(unknown)), &clock_).code(), ErrorCode::kInvalidArgument);
  TokenRangeKeys short_key = DemoRangeKeys();
  short_key.issuer_master_key = crypto::SecretBytes(Hex("0123456789ABCDEF"));
  EXPECT_EQ(open(ranges(std::move(short_key)), &clock_).code(), ErrorCode::kInvalidArgument);

  // A token outside every configured range has no keys: not found.
  TokenAuthorizationOptions options;
  options.ranges.push_back(DemoRangeKeys("12345678", "12345678"));
  options.clock = &clock_;
  auto other = TokenAuthorization::Open(*vault_, *atc_store_, std::move(options));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ((*other)->Authorize(Use(Icc({.atc = 1}))).status().code(), ErrorCode::kNotFound);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenAuthorizationTest);

// The ATC table in the vault's store (TspMigrations), as TspService uses it: uses decided in one
// shared transaction (DecideInTransaction through a GroupCommitter) commit together, check each
// other's ATCs, and fail alone.
class BatchedAuthorizationTest : public TokenAuthorizationTest {
 protected:
  void SetUp() override {
    TokenAuthorizationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(OpenBatched());
  }
  void TearDown() override {
    committer_.reset();
    TokenAuthorizationTest::TearDown();
  }

  // One use through the committer, as TspService::Authorize does it; `fail_after` makes the
  // body fail after deciding (a store error in the same transaction).
  // `leading`, when set, is raised by the body, which then waits (as the leader, under the store
  // mutex) until `followers` callers queued behind it.
  Result<TokenAuthorizationResult> Batched(const Bytes& icc, bool fail_after = false,
                                           std::atomic<bool>* leading = nullptr,
                                           std::size_t followers = 0) {
    const TokenUse use = Use(icc);
    const CheckedCryptogram checked = auth_->CheckCryptogram(use);
    Result<TokenAuthorizationResult> decision = Internal("not decided");
    const Status s = committer_->Run([&](store::Store&) -> Status {
      if (leading != nullptr) {
        *leading = true;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (committer_->queued() < followers && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      TS_RETURN_IF_ERROR(auth_->DecideInTransaction(use, checked, decision));
      return fail_after ? Unavailable("injected store failure") : Status::Ok();
    });
    if (!s.ok()) return s;
    return decision;
  }

  // The committed ATC state as another connection sees it.
  AtcState CommittedAtc() {
    auto other = OpenAnother();
    EXPECT_TRUE(other.ok()) << other.status().ToString();
    if (!other.ok()) return {};
    auto row = (*other)->QueryRow(
        "SELECT highest_atc, seen_window FROM tsp_token_atc WHERE token_id = ?", {token_.token_id});
    if (!row.ok()) return {};
    return AtcState{static_cast<std::uint32_t>(*row->GetInt64("highest_atc")),
                    static_cast<std::uint64_t>(*row->GetInt64("seen_window"))};
  }

  // A restart: new connection, vault, TokenAuthorization and committer on the same database.
  void Restart() {
    committer_.reset();
    auth_.reset();
    vault_.reset();
    Reopen();
    auto vault = OpenVault(*store_, testing::DemoKek1());
    ASSERT_TRUE(vault.ok()) << vault.status().ToString();
    vault_ = std::move(*vault);
    OpenBatched();
  }
  void OpenBatched() {
    TokenAuthorizationOptions options;
    options.ranges.push_back(DemoRangeKeys());
    options.clock = &clock_;
    auto auth = TokenAuthorization::Open(*vault_, std::move(options));
    ASSERT_TRUE(auth.ok()) << auth.status().ToString();
    auth_ = std::move(*auth);
    TokenVault* vault = vault_.get();
    committer_ = std::make_unique<store::GroupCommitter>(
        *store_, store_mu_,
        [vault](store::Store&) -> Status { return vault->audit_log().LockChainInTransaction(); });
  }

  std::mutex store_mu_;
  std::unique_ptr<store::GroupCommitter> committer_;
};

TEST_P(BatchedAuthorizationTest, UsesInOneTransactionCheckEachOthersAtc) {
  const Bytes icc7 = Icc({.atc = 7});
  const Bytes icc8 = Icc({.atc = 8});
  std::vector<Result<TokenAuthorizationResult>> d(3, Internal("not decided"));
  TS_ASSERT_OK(store_->RunInTransaction([&](store::Store&) -> Status {
    TS_RETURN_IF_ERROR(vault_->audit_log().LockChainInTransaction());
    const TokenUse u7 = Use(icc7);
    const TokenUse u8 = Use(icc8);
    TS_RETURN_IF_ERROR(auth_->DecideInTransaction(u7, auth_->CheckCryptogram(u7), d[0]));
    TS_RETURN_IF_ERROR(auth_->DecideInTransaction(u7, auth_->CheckCryptogram(u7), d[1]));
    return auth_->DecideInTransaction(u8, auth_->CheckCryptogram(u8), d[2]);
  }));
  ASSERT_TRUE(d[0].ok()) << d[0].status().ToString();
  EXPECT_EQ(d[0]->funding.pan, TestPan(kTestPanMastercard));
  // The replay inside the same transaction is refused, as it would be one commit later.
  ASSERT_FALSE(d[1].ok());
  EXPECT_EQ(d[1].status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(d[1].status().message().find("replay"), std::string::npos);
  ASSERT_TRUE(d[2].ok()) << d[2].status().ToString();
  EXPECT_EQ(d[2]->atc, 8);
  const AtcState committed = CommittedAtc();
  EXPECT_EQ(committed.highest, 8u);
  EXPECT_EQ(committed.window, 1u);  // 7 seen
  // Audit: two de-tokenisations and the refusal, committed with the ATC.
  auto head = vault_->audit_log().Head();
  ASSERT_TRUE(head.ok());
  auto last = vault_->audit_log().Read(head->seq - 2, 3);
  ASSERT_TRUE(last.ok() && last->size() == 3);
  EXPECT_EQ((*last)[0].event.action, "detokenize");
  EXPECT_EQ((*last)[1].event.action, "token_auth_refused");
  EXPECT_EQ((*last)[1].event.detail, "reason=atc");
  EXPECT_EQ((*last)[2].event.action, "detokenize");
  EXPECT_TRUE(vault_->audit_log().Verify()->intact);
  // Outside a transaction DecideInTransaction refuses to run.
  Result<TokenAuthorizationResult> outside = Internal("not decided");
  const Bytes icc9 = Icc({.atc = 9});
  const TokenUse u9 = Use(icc9);
  EXPECT_EQ(auth_->DecideInTransaction(u9, auth_->CheckCryptogram(u9), outside).code(),
            ErrorCode::kFailedPrecondition);
}

TEST_P(BatchedAuthorizationTest, AnApprovalIsCommittedBeforeItIsReturned) {
  auto r = Batched(Icc({.atc = 5}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Another connection sees the ATC at once: it committed before the PAN was handed out.
  EXPECT_EQ(CommittedAtc().highest, 5u);
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok());
  auto audited = (*other)->QueryRow(
      "SELECT COUNT(*) AS n FROM tsp_audit_log WHERE action = 'detokenize' AND subject = ?",
      {token_.token_id});
  ASSERT_TRUE(audited.ok()) << audited.status().ToString();
  EXPECT_EQ(*audited->GetInt64("n"), 1);
  // A restart (new connection, new TokenAuthorization) still refuses the replay.
  ASSERT_NO_FATAL_FAILURE(Restart());
  auto replay = Batched(Icc({.atc = 5}));
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.status().code(), ErrorCode::kFailedPrecondition);
}

TEST_P(BatchedAuthorizationTest, AFailingUseInABatchFailsAloneAndAReplayInItIsRefused) {
  const Bytes icc1 = Icc({.atc = 1});
  const Bytes icc2 = Icc({.atc = 2});
  const Bytes icc3 = Icc({.atc = 3});
  std::vector<Result<TokenAuthorizationResult>> results(4, Internal("not run"));
  // The first caller's body (the leader's batch of one) waits until three more callers queue
  // behind it; they then form one batch: atc 2, a replay of atc 2, and atc 3 whose body fails
  // after deciding.
  std::vector<std::thread> threads;
  std::atomic<bool> leading{false};
  threads.emplace_back([&] { results[0] = Batched(icc1, false, &leading, 3); });
  while (!leading) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  threads.emplace_back([&] { results[1] = Batched(icc2); });
  while (committer_->queued() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  threads.emplace_back([&] { results[2] = Batched(icc2); });
  while (committer_->queued() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  threads.emplace_back([&] { results[3] = Batched(icc3, /*fail_after=*/true); });
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].status().ToString();
  ASSERT_FALSE(results[2].ok());
  EXPECT_EQ(results[2].status().code(), ErrorCode::kFailedPrecondition);  // replay
  ASSERT_FALSE(results[3].ok());
  EXPECT_EQ(results[3].status().code(), ErrorCode::kUnavailable);  // its own failure only
  // The three queued uses shared a transaction that failed and were re-run alone.
  EXPECT_EQ(committer_->stats().batch_failures, 1);
  // ATC 3 was rolled back with its failing body: 2 is the highest, 1 is in the window.
  const AtcState committed = CommittedAtc();
  EXPECT_EQ(committed.highest, 2u);
  EXPECT_EQ(committed.window, 1u);
  EXPECT_TRUE(Batched(icc3).ok());  // ATC 3 was never spent
  EXPECT_TRUE(vault_->audit_log().Verify()->intact);
}

TEST_P(BatchedAuthorizationTest, ConcurrentUsesApproveEachAtcExactlyOnce) {
  constexpr int kThreads = 16;
  constexpr int kAtcs = 8;  // two callers per ATC: one of each pair is a replay
  std::vector<Bytes> iccs;
  for (int a = 1; a <= kAtcs; ++a) iccs.push_back(Icc({.atc = static_cast<std::uint16_t>(a)}));
  std::vector<Result<TokenAuthorizationResult>> results(kThreads, Internal("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = Batched(iccs[t % kAtcs]); });
  }
  for (std::thread& t : threads) t.join();
  std::vector<int> approved(kAtcs + 1, 0);
  for (const auto& r : results) {
    if (r.ok()) {
      ++approved[r->atc];
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().ToString();
    }
  }
  for (int a = 1; a <= kAtcs; ++a) EXPECT_EQ(approved[a], 1) << "ATC " << a;
  EXPECT_EQ(CommittedAtc().highest, static_cast<std::uint32_t>(kAtcs));
  EXPECT_LE(committer_->stats().transactions, kThreads);
  EXPECT_TRUE(vault_->audit_log().Verify()->intact);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(BatchedAuthorizationTest);

// The ATC window as a pure function.
TEST(AtcWindowTest, AcceptsEachAtcOnceWithinTheWindow) {
  AtcState s;
  EXPECT_EQ(AdvanceAtcWindow(s, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AdvanceAtcWindow(s, kAtcAheadMax + 1).status().code(), ErrorCode::kFailedPrecondition);
  s = *AdvanceAtcWindow(s, 10);
  EXPECT_EQ(s.highest, 10u);
  EXPECT_EQ(s.window, 0u);
  EXPECT_EQ(AdvanceAtcWindow(s, 10).status().code(), ErrorCode::kFailedPrecondition);
  s = *AdvanceAtcWindow(s, 12);  // 10 is now bit 1, 11 unseen
  EXPECT_EQ(s.window, 0b10u);
  EXPECT_EQ(AdvanceAtcWindow(s, 10).status().code(), ErrorCode::kFailedPrecondition);
  s = *AdvanceAtcWindow(s, 11);
  EXPECT_EQ(s.highest, 12u);
  EXPECT_EQ(s.window, 0b11u);
  EXPECT_EQ(AdvanceAtcWindow(s, 11).status().code(), ErrorCode::kFailedPrecondition);
  // The window's last slot and one beyond it.
  EXPECT_TRUE(AdvanceAtcWindow(*AdvanceAtcWindow(AtcState{}, 12 + kAtcWindow), 12).ok());
  EXPECT_EQ(AdvanceAtcWindow(*AdvanceAtcWindow(AtcState{}, 13 + kAtcWindow), 12).status().code(),
            ErrorCode::kFailedPrecondition);
  // A big step forward drops the whole window; bits never exceed the window.
  s = *AdvanceAtcWindow(s, 12 + 100);
  EXPECT_EQ(s.window, 0u);
  s = *AdvanceAtcWindow(s, 112 + kAtcWindow);
  EXPECT_EQ(s.window, std::uint64_t{1} << (kAtcWindow - 1));
  EXPECT_EQ(AdvanceAtcWindow(s, 112).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(AdvanceAtcWindow(AtcState{0xFFFE, 0}, 0xFFFF)->highest, 0xFFFFu);
  EXPECT_EQ(AdvanceAtcWindow(AtcState{0xFFFF, 0}, 0x10000).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::tsp
