// AuditLog on SQLite and PostgreSQL: chaining, known-answer hashes, and tampering behind the log's
// back (edited, re-hashed, deleted and truncated rows) found by Verify.
#include "tsp/audit_log.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "store/store_fixture.h"

namespace tapstack::tsp {
namespace {

using store::Value;

class AuditLogTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto log = AuditLog::Open(*store_, clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }
  void TearDown() override {
    log_.reset();
    StoreTest::TearDown();
  }

  void AppendN(int n) {
    for (int i = 0; i < n; ++i) {
      TS_ASSERT_OK(log_->Append({.actor = "network:switch-1",
                                 .action = "detokenize",
                                 .subject = "tok_" + std::string(1, static_cast<char>('a' + i)),
                                 .detail = "purpose=authorisation"}));
      clock_.AdvanceMillis(1);
    }
  }

  AuditVerification MustVerify() {
    auto v = log_->Verify();
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : AuditVerification{};
  }

  ManualClock clock_;
  std::unique_ptr<AuditLog> log_;
};

TEST(AuditHashTest, KnownAnswerFromAnIndependentImplementation) {
  // Python: sha256(prev + b"TSPAUDIT1" + pack(">Qq", seq, time) + each field as
  // pack(">I", len) + bytes), prev = 32 zero bytes for entry 1.
  const Bytes zero(kAuditHashBytes, 0);
  auto h1 = AuditEntryHash(zero, 1, 1'767'225'600'000,
                           {"tsp:test", "rotate_data_key", "dek:2", "kek=demo-kek-1"});
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(HexEncode(*h1), "7E7F6D4594695543091283BC06202F22BB85DF6E3BA722DF1E5D4B9778EF0EFE");
  auto h2 = AuditEntryHash(*h1, 2, 1'767'225'600'000,
                           {"network:switch-1", "detokenize", "tok_abc", "purpose=authorisation"});
  EXPECT_EQ(HexEncode(*h2), "B2C69002E0F535B1D9B4A0F73919DD1D8326C17DF476C361D6F84C306AB8A2D7");
}

TEST(AuditHashTest, FieldBoundariesAreUnambiguous) {
  const Bytes zero(kAuditHashBytes, 0);
  EXPECT_NE(*AuditEntryHash(zero, 1, 0, {"ab", "c", "", ""}),
            *AuditEntryHash(zero, 1, 0, {"a", "bc", "", ""}));
}

TEST(AuditEventTest, RefusesPanShapedAndMalformedFields) {
  EXPECT_TRUE(ValidateAuditEvent({"wallet:40010000001", "tokenize", "tok_x", ""}).ok());
  const Status pan = ValidateAuditEvent({"a", "detokenize", "", "pan=4111111111111111"});
  EXPECT_EQ(pan.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(pan.message().find("detail"), std::string::npos);
  EXPECT_EQ(pan.message().find("4111"), std::string::npos);  // never echoed
  EXPECT_EQ(ValidateAuditEvent({"", "x", "", ""}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateAuditEvent({"a", "Detokenize", "", ""}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateAuditEvent({"a", "x", "tok\n", ""}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateAuditEvent({"a", "x", std::string(65, 'a'), ""}).code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(AuditLogTest, AppendsAChainThatVerifies) {
  EXPECT_TRUE(MustVerify().intact);  // empty
  AppendN(5);
  auto entries = log_->Read(1, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].prev_hash, Bytes(kAuditHashBytes, 0));
  for (std::size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].seq, static_cast<std::int64_t>(i + 1));
    if (i > 0) {
      EXPECT_EQ((*entries)[i].prev_hash, (*entries)[i - 1].hash);
    }
  }
  EXPECT_EQ((*entries)[1].time_unix_ms, (*entries)[0].time_unix_ms + 1);
  auto head = log_->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 5);
  EXPECT_EQ(head->hash, (*entries)[4].hash);
  const AuditVerification v = MustVerify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries_checked, 5);
}

TEST_P(AuditLogTest, EditedRowIsDetected) {
  AppendN(4);
  TS_ASSERT_OK(store_->Execute("UPDATE tsp_audit_log SET detail = ? WHERE seq = 2",
                               {Value("purpose=nothing-to-see")}));
  const AuditVerification v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 2);
  EXPECT_NE(v.problem.find("stored hash does not match"), std::string::npos) << v.problem;
}

TEST_P(AuditLogTest, EditedAndRehashedRowBreaksTheNextLink) {
  AppendN(4);
  auto entries = *log_->Read(2, 1);
  AuditEvent forged = entries[0].event;
  forged.actor = "someone:else";
  const Bytes rehash = *AuditEntryHash(entries[0].prev_hash, 2, entries[0].time_unix_ms, forged);
  TS_ASSERT_OK(store_->Execute("UPDATE tsp_audit_log SET actor = ?, entry_hash = ? WHERE seq = 2",
                               {Value(forged.actor), Value(rehash)}));
  const AuditVerification v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 3);
  EXPECT_NE(v.problem.find("prev_hash"), std::string::npos) << v.problem;
}

TEST_P(AuditLogTest, DeletedRowsAreDetected) {
  AppendN(4);
  TS_ASSERT_OK(store_->Execute("DELETE FROM tsp_audit_log WHERE seq = 3"));
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 3);
  EXPECT_NE(v.problem.find("missing"), std::string::npos) << v.problem;
}

TEST_P(AuditLogTest, TruncatedTailIsDetectedByTheHead) {
  AppendN(4);
  TS_ASSERT_OK(store_->Execute("DELETE FROM tsp_audit_log WHERE seq = 4"));
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 4);
}

TEST_P(AuditLogTest, AppendInTransactionCommitsOrRollsBackWithTheCaller) {
  EXPECT_EQ(log_->AppendInTransaction({"a", "x", "", ""}).status().code(),
            ErrorCode::kFailedPrecondition);
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(log_->AppendInTransaction({"a", "rolled_back", "", ""}));
  TS_ASSERT_OK(store_->Rollback());
  EXPECT_EQ(CountRows("tsp_audit_log"), 0);
  AppendN(1);
  EXPECT_EQ(log_->Head()->seq, 1);
  EXPECT_TRUE(MustVerify().intact);
}

TEST_P(AuditLogTest, TwoConnectionsAppendToOneChain) {
  auto other_store = OpenAnother();
  ASSERT_TRUE(other_store.ok()) << other_store.status().ToString();
  auto other = AuditLog::Open(**other_store, clock_);
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 6; ++i) {
    AuditLog& log = (i % 2 == 0) ? *log_ : **other;
    TS_ASSERT_OK(log.Append({"tsp:test", "rotate_data_key", "", ""}));
  }
  const AuditVerification v = MustVerify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries_checked, 6);
  (*other).reset();
  TS_ASSERT_OK((*other_store)->Close());
}

TEST_P(AuditLogTest, RefusedEventsAppendNothing) {
  EXPECT_EQ(log_->Append({"a", "x", "", "4111111111111111"}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CountRows("tsp_audit_log"), 0);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(AuditLogTest);

}  // namespace
}  // namespace tapstack::tsp
