// TokenVault on SQLite and PostgreSQL: tokenise / de-tokenise, de-duplication, precise input
// errors without partial state, tampering, key rotation (also while another connection reads),
// KEK re-wrap, and no PAN digits anywhere in the SQLite files.
#include "tsp/token_vault.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/hex.h"
#include "tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using store::Value;
using testing::DemoKek1;
using testing::DemoKek2;
using testing::DemoRequest;
using testing::kTestPanMastercard;
using testing::kTestPanVisa;
using testing::kTestPanVisa2;
using testing::TestPan;

const DetokenizeRequest kSwitch{.actor = "network:switch-1", .purpose = "authorisation"};

class TokenVaultTest : public testing::VaultTest {
 protected:
  std::vector<AuditEntry> AuditEntries() {
    auto e = vault_->audit_log().Read(1, 1000);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : std::vector<AuditEntry>{};
  }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    for (const AuditEntry& e : AuditEntries()) out.push_back(e.event.action);
    return out;
  }
  void ExpectAuditIntact() {
    auto v = vault_->audit_log().Verify();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->intact) << v->problem;
  }
  void ExpectDetokenizeFails(const std::string& token_number, ErrorCode code,
                             const std::string& message_part) {
    auto r = vault_->Detokenize(token_number, kSwitch);
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(message_part), std::string::npos) << r.status().message();
  }
};

TEST_P(TokenVaultTest, TokenizeCreatesAnInactiveRandomTokenWithParAndExpiry) {
  auto t = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->created);
  const TokenRecord& r = t->record;
  EXPECT_EQ(r.token_id.size(), 36u);
  EXPECT_EQ(r.token_id.substr(0, 4), "tok_");
  EXPECT_EQ(r.token_number.size(), 16u);
  EXPECT_TRUE(LuhnValid(r.token_number));
  EXPECT_TRUE(numbers_.InTokenRange(r.token_number));
  EXPECT_NE(r.token_number, kTestPanVisa);
  EXPECT_EQ(r.token_expiry, "2901");  // 2026-01 + 36 months
  EXPECT_EQ(r.par, "T001J3G7GXP6YHJB4FPIERYY7YFJH");
  EXPECT_EQ(r.masked_pan, "411111******1111");
  EXPECT_EQ(r.state, TokenState::kInactive);
  EXPECT_EQ(r.dek_version, 1);
  EXPECT_EQ(vault_->Get(r.token_id)->token_number, r.token_number);
  EXPECT_EQ(vault_->FindByTokenNumber(r.token_number)->token_id, r.token_id);
  EXPECT_EQ(AuditActions(), std::vector<std::string>{"tokenize"});
}

TEST_P(TokenVaultTest, DeduplicatesByKeyedFingerprint) {
  auto first = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest("se-0001"));
  auto retry = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest("se-0001"));
  clock_.AdvanceMillis(1);  // FindByPanFingerprint lists oldest first
  auto watch = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest("watch-0001"));
  auto other = vault_->Tokenize(TestPan(kTestPanMastercard), DemoRequest("se-0001"));
  ASSERT_TRUE(first.ok() && retry.ok() && watch.ok() && other.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->record.token_id, first->record.token_id);
  EXPECT_NE(watch->record.token_number, first->record.token_number);
  EXPECT_EQ(watch->record.par, first->record.par);  // one PAR per PAN
  EXPECT_NE(other->record.par, first->record.par);
  auto found = vault_->FindByPanFingerprint(TestPan(kTestPanVisa));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].token_id, first->record.token_id);
  EXPECT_EQ((*found)[1].token_id, watch->record.token_id);
  EXPECT_TRUE(vault_->FindByPanFingerprint(TestPan(kTestPanVisa2))->empty());
  // The stored fingerprint is the keyed HMAC, not an unkeyed hash.
  auto row = store_->QueryRow("SELECT pan_fingerprint FROM tsp_tokens WHERE token_id = ?",
                              {first->record.token_id});
  EXPECT_EQ(HexEncode(*row->GetBlob("pan_fingerprint")),
            "91D71324CE1757147B0C5478F2EC5EC6FF4F0E3E03090FF04059C190423680E6");
}

TEST_P(TokenVaultTest, BadInputIsRefusedPreciselyAndStoresNothing) {
  struct Case {
    TokenizeRequest request;
    ErrorCode code;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{"2813", "40010000001", "se-1"}, ErrorCode::kInvalidArgument, "pan_expiry"},
      {{"2512", "40010000001", "se-1"}, ErrorCode::kFailedPrecondition, "pan_expiry"},
      {{"2812", "4001000000", "se-1"}, ErrorCode::kInvalidArgument, "requestor_id"},
      {{"2812", "4001000000a", "se-1"}, ErrorCode::kInvalidArgument, "requestor_id"},
      {{"2812", "40010000001", ""}, ErrorCode::kInvalidArgument, "device_id"},
      {{"2812", "40010000001", "se 1"}, ErrorCode::kInvalidArgument, "device_id"},
      {{"2812", "40010000001", std::string(65, 'd')}, ErrorCode::kInvalidArgument, "device_id"},
  };
  for (const Case& c : cases) {
    auto r = vault_->Tokenize(TestPan(kTestPanVisa), c.request);
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.names), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(CountRows("tsp_tokens"), 0);
  EXPECT_EQ(CountRows("tsp_audit_log"), 0);
  EXPECT_EQ(vault_->Detokenize("4999000000000000", {"", "x"}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(vault_->Detokenize("4999000000000000", {"a", ""}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CountRows("tsp_audit_log"), 0);
}

TEST_P(TokenVaultTest, DetokenizeReturnsThePanOnlyForActiveTokensAndAuditsEveryCall) {
  auto t = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest());
  ASSERT_TRUE(t.ok());
  ExpectDetokenizeFails(t->record.token_number, ErrorCode::kFailedPrecondition, "inactive");
  TS_ASSERT_OK(vault_->ChangeState(t->record.token_id, LifecycleAction::kActivate,
                                   {InitiatorKind::kTsp, "idv"}, "otp verified"));
  auto d = vault_->Detokenize(t->record.token_number, kSwitch);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(d->pan_expiry, "2812");
  EXPECT_EQ(d->record.token_id, t->record.token_id);
  ExpectDetokenizeFails("4999000000000000", ErrorCode::kNotFound, "no token");
  EXPECT_EQ(AuditActions(),
            (std::vector<std::string>{"tokenize", "detokenize_refused", "token_activate",
                                      "detokenize", "detokenize_refused"}));
  const std::vector<AuditEntry> entries = AuditEntries();
  EXPECT_EQ(entries[3].event.actor, "network:switch-1");
  EXPECT_EQ(entries[3].event.subject, t->record.token_id);
  EXPECT_EQ(entries[3].event.detail, "purpose=authorisation");
  EXPECT_EQ(entries[4].event.subject, "");
  ExpectAuditIntact();
}

TEST_P(TokenVaultTest, ExpiredTokensAreNotDetokenized) {
  const TokenRecord r = ActiveToken(kTestPanVisa);
  clock_.AdvanceMillis((3LL * 365 + 1 + 31) * 86'400'000);  // 2029-02-01: past 2901
  ExpectDetokenizeFails(r.token_number, ErrorCode::kFailedPrecondition, "expired");
}

TEST_P(TokenVaultTest, TamperedCiphertextNonceOrVersionFailsToDecrypt) {
  const TokenRecord a = ActiveToken(kTestPanVisa);
  auto row = *store_->QueryRow(
      "SELECT pan_ciphertext, pan_nonce FROM tsp_tokens WHERE token_id = ?", {a.token_id});
  const Bytes ciphertext = *row.GetBlob("pan_ciphertext");
  const Bytes nonce = *row.GetBlob("pan_nonce");
  EXPECT_EQ(ciphertext.size(), 16u + 1 + 4 + 16);  // PAN ‖ '=' ‖ YYMM ‖ tag
  EXPECT_EQ(nonce.size(), 12u);

  Bytes flipped = ciphertext;
  flipped[3] ^= 0x40;
  TS_ASSERT_OK(store_->Execute("UPDATE tsp_tokens SET pan_ciphertext = ? WHERE token_id = ?",
                               {Value(flipped), a.token_id}));
  ExpectDetokenizeFails(a.token_number, ErrorCode::kCryptoFailure, "does not decrypt");

  Bytes bad_nonce = nonce;
  bad_nonce[0] ^= 0x01;
  TS_ASSERT_OK(
      store_->Execute("UPDATE tsp_tokens SET pan_ciphertext = ?, pan_nonce = ? WHERE token_id = ?",
                      {Value(ciphertext), Value(bad_nonce), a.token_id}));
  ExpectDetokenizeFails(a.token_number, ErrorCode::kCryptoFailure, "does not decrypt");

  // The DEK version is in the AD: pointing the row at another live key fails too.
  TS_ASSERT_OK(store_->Execute("UPDATE tsp_tokens SET pan_nonce = ? WHERE token_id = ?",
                               {Value(nonce), a.token_id}));
  TS_ASSERT_OK(vault_->RotateDataKey("tsp:test"));
  TS_ASSERT_OK(
      store_->Execute("UPDATE tsp_tokens SET dek_version = 2 WHERE token_id = ?", {a.token_id}));
  ExpectDetokenizeFails(a.token_number, ErrorCode::kCryptoFailure, "data key version 2");
  TS_ASSERT_OK(
      store_->Execute("UPDATE tsp_tokens SET dek_version = 77 WHERE token_id = ?", {a.token_id}));
  ExpectDetokenizeFails(a.token_number, ErrorCode::kCryptoFailure, "does not exist");

  // Restored, it decrypts again.
  TS_ASSERT_OK(
      store_->Execute("UPDATE tsp_tokens SET dek_version = 1 WHERE token_id = ?", {a.token_id}));
  EXPECT_EQ(vault_->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(AuditActions().size(), 2u + 4 + 1 + 1);  // tokenize, activate, 4 failed, rotate, ok
}

TEST_P(TokenVaultTest, CiphertextSwappedIntoAnotherRowFails) {
  // The AD binds the token id: row B cannot be made to decrypt to A's PAN.
  const TokenRecord a = ActiveToken(kTestPanVisa);
  const TokenRecord b = ActiveToken(kTestPanMastercard);
  TS_ASSERT_OK(store_->Execute(
      "UPDATE tsp_tokens SET pan_ciphertext = (SELECT pan_ciphertext FROM tsp_tokens WHERE "
      "token_id = ?), pan_nonce = (SELECT pan_nonce FROM tsp_tokens WHERE token_id = ?) WHERE "
      "token_id = ?",
      {a.token_id, a.token_id, b.token_id}));
  ExpectDetokenizeFails(b.token_number, ErrorCode::kCryptoFailure, b.token_id);
  EXPECT_EQ(vault_->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
}

TEST_P(TokenVaultTest, RotateReencryptAndRetireWithoutLosingAnyPan) {
  const TokenRecord a = ActiveToken(kTestPanVisa);
  const TokenRecord b = ActiveToken(kTestPanMastercard);
  ASSERT_EQ(*vault_->RotateDataKey("tsp:key-rotation"), 2);
  const TokenRecord c = ActiveToken(kTestPanVisa2);
  EXPECT_EQ(c.dek_version, 2);
  // Readable under both versions before re-encryption.
  EXPECT_EQ(vault_->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(vault_->Detokenize(c.token_number, kSwitch)->pan.reveal(), kTestPanVisa2);

  auto first = vault_->ReencryptBatch(1, "tsp:key-rotation");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->reencrypted, 1);
  EXPECT_EQ(first->remaining, 1);
  EXPECT_EQ(first->active_dek_version, 2);
  auto second = *vault_->ReencryptBatch(100, "tsp:key-rotation");
  EXPECT_EQ(second.reencrypted, 1);
  EXPECT_EQ(second.remaining, 0);
  EXPECT_EQ(vault_->ReencryptBatch(100, "tsp:key-rotation")->reencrypted, 0);
  EXPECT_EQ(vault_->Get(a.token_id)->dek_version, 2);

  EXPECT_EQ(*vault_->RetireUnusedDataKeys("tsp:key-rotation"), std::vector<std::int64_t>{1});
  EXPECT_EQ(vault_->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(vault_->Detokenize(b.token_number, kSwitch)->pan.reveal(), kTestPanMastercard);
  EXPECT_EQ(vault_->Detokenize(c.token_number, kSwitch)->pan.reveal(), kTestPanVisa2);
  std::vector<std::string> key_ops;
  for (const std::string& action : AuditActions()) {
    if (action.find("detokenize") == std::string::npos && action.find("token") != 0) {
      key_ops.push_back(action);
    }
  }
  EXPECT_EQ(key_ops, (std::vector<std::string>{"rotate_data_key", "reencrypt_batch",
                                               "reencrypt_batch", "retire_data_keys"}));
  EXPECT_EQ(vault_->ReencryptBatch(0, "x").status().code(), ErrorCode::kInvalidArgument);
  ExpectAuditIntact();
}

TEST_P(TokenVaultTest, RewrapUnderANewKek) {
  const TokenRecord a = ActiveToken(kTestPanVisa);
  TS_ASSERT_OK(vault_->RotateDataKey("tsp:key-rotation"));
  auto n = vault_->RewrapDataKeys(DemoKek2(), "tsp:kek-rotation");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(vault_->kek_id(), "demo-kek-2");
  EXPECT_EQ(vault_->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(OpenVault(*store_, DemoKek1()).status().code(), ErrorCode::kFailedPrecondition);
  auto reopened = OpenVault(*store_, DemoKek2());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Detokenize(a.token_number, kSwitch)->pan.reveal(), kTestPanVisa);
  EXPECT_EQ(AuditEntries().back().event.detail, "purpose=authorisation");
  ExpectAuditIntact();
}

TEST_P(TokenVaultTest, RotationAndReencryptionWhileAnotherConnectionReads) {
  std::vector<TokenRecord> tokens;
  const std::vector<std::string> pans = {std::string(kTestPanVisa), std::string(kTestPanMastercard),
                                         std::string(kTestPanVisa2)};
  for (int i = 0; i < 12; ++i) {
    tokens.push_back(ActiveToken(pans[i % 3], "device-" + std::to_string(i)));
  }
  auto rotator_store = OpenAnother();
  ASSERT_TRUE(rotator_store.ok()) << rotator_store.status().ToString();
  auto rotator = OpenVault(**rotator_store, DemoKek1());
  ASSERT_TRUE(rotator.ok()) << rotator.status().ToString();

  std::atomic<bool> done{false};
  Status rotator_status;
  std::thread background([&] {
    for (int round = 0; round < 3 && rotator_status.ok(); ++round) {
      rotator_status = (*rotator)->RotateDataKey("tsp:key-rotation").status();
      for (int batch = 0; batch < 100 && rotator_status.ok(); ++batch) {
        auto r = (*rotator)->ReencryptBatch(2, "tsp:key-rotation");
        rotator_status = r.status();
        if (!r.ok() || r->remaining == 0) break;
      }
    }
    done = true;
  });
  int reads = 0;
  while (!done || reads < static_cast<int>(tokens.size())) {
    const TokenRecord& t = tokens[reads % tokens.size()];
    auto d = vault_->Detokenize(t.token_number, kSwitch);
    if (!d.ok()) {
      ADD_FAILURE() << "read " << reads << ": " << d.status().ToString();
      break;  // not ASSERT: the background thread must still be joined
    }
    EXPECT_EQ(d->pan.reveal(), pans[(reads % tokens.size()) % 3]);
    ++reads;
    // A spinning reader would starve SQLite's polling busy handler of the writer; real readers
    // pause between requests.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  background.join();
  EXPECT_GE(reads, static_cast<int>(tokens.size()));
  EXPECT_TRUE(rotator_status.ok()) << rotator_status.ToString();
  for (const TokenRecord& t : tokens) EXPECT_EQ(vault_->Get(t.token_id)->dek_version, 4);
  ExpectAuditIntact();
  rotator->reset();
  TS_ASSERT_OK((*rotator_store)->Close());
}

TEST_P(TokenVaultTest, DeletedTokenLosesItsPanButKeepsItsNumber) {
  const TokenRecord a = ActiveToken(kTestPanVisa);
  TS_ASSERT_OK(vault_->ChangeState(a.token_id, LifecycleAction::kDelete,
                                   {InitiatorKind::kIssuer, "bank-a"}, "C"));
  auto row = *store_->QueryRow(
      "SELECT pan_ciphertext, pan_fingerprint, token_number FROM tsp_tokens WHERE token_id = ?",
      {a.token_id});
  EXPECT_TRUE(*row.IsNull("pan_ciphertext"));
  EXPECT_TRUE(*row.IsNull("pan_fingerprint"));
  EXPECT_EQ(*row.GetText("token_number"), a.token_number);
  ExpectDetokenizeFails(a.token_number, ErrorCode::kFailedPrecondition, "deleted");
  EXPECT_TRUE(vault_->FindByPanFingerprint(TestPan(kTestPanVisa))->empty());
  // A new token for the same PAN and device is a new number.
  auto again = vault_->Tokenize(TestPan(kTestPanVisa), DemoRequest());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
  EXPECT_NE(again->record.token_number, a.token_number);
}

TEST_P(TokenVaultTest, NoPanDigitsInTheDatabaseFiles) {
  if (GetParam() != store::Dialect::kSqlite) GTEST_SKIP() << "reads the SQLite files";
  const std::vector<std::string> pans = {std::string(kTestPanVisa), std::string(kTestPanMastercard),
                                         std::string(kTestPanVisa2)};
  std::vector<TokenRecord> tokens;
  for (const std::string& pan : pans) tokens.push_back(ActiveToken(pan));
  for (const TokenRecord& t : tokens) TS_ASSERT_OK(vault_->Detokenize(t.token_number, kSwitch));
  TS_ASSERT_OK(vault_->RotateDataKey("tsp:key-rotation"));
  TS_ASSERT_OK(vault_->ReencryptBatch(10, "tsp:key-rotation"));
  TS_ASSERT_OK(vault_->UpdatePan(tokens[0].token_id, {InitiatorKind::kIssuer, "bank-a"},
                                 TestPan(kTestPanVisa), "3012", "reissue"));
  vault_.reset();
  TS_ASSERT_OK(store_->Close());
  std::string all_bytes;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    std::ifstream in(entry.path(), std::ios::binary);
    all_bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ++files;
  }
  ASSERT_GT(files, 0);
  ASSERT_GT(all_bytes.size(), 4096u);
  EXPECT_NE(all_bytes.find(tokens[0].token_number), std::string::npos);  // the search works
  for (const std::string& pan : pans) {
    EXPECT_EQ(all_bytes.find(pan), std::string::npos) << "PAN digits found in the database";
    // Nor the middle digits that masking hides, nor the PAN as packed BCD.
    EXPECT_EQ(all_bytes.find(pan.substr(4, 10)), std::string::npos);
    const Bytes bcd = *BcdEncode(pan);
    EXPECT_EQ(all_bytes.find(std::string(bcd.begin(), bcd.end())), std::string::npos);
  }
}

TEST_P(TokenVaultTest, MemoryDoesNotGrowWithTokens) {
  ActiveToken(kTestPanVisa);
  const std::size_t one = vault_->MemoryBytesEstimate();
  for (int i = 0; i < 20; ++i) ActiveToken(kTestPanMastercard, "d-" + std::to_string(i));
  EXPECT_EQ(vault_->MemoryBytesEstimate(), one);
  EXPECT_LE(one, 1024u);
}

TEST_P(TokenVaultTest, OpenRefusesMissingOptionsAndBadKeys) {
  TokenVaultOptions options;
  auto r = TokenVault::Open(*store_, {DemoKek1(), testing::DemoKey(testing::kDemoFingerprintKey)},
                            options);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("options.clock"), std::string::npos);
  options = {&clock_, &random_, &numbers_, &par_, 36};
  auto short_key = TokenVault::Open(*store_, {DemoKek1(), testing::DemoKey("short")}, options);
  EXPECT_NE(short_key.status().message().find("fingerprint_key"), std::string::npos);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(TokenVaultTest);

}  // namespace
}  // namespace tapstack::tsp
