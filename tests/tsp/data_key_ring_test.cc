// DataKeyRing on SQLite and PostgreSQL: creation, rotation, tampered wrapped keys, KEK re-wrap,
// retirement, and the cache never outliving a rolled-back key.
#include "tsp/data_key_ring.h"

#include <gtest/gtest.h>

#include "tsp/schema.h"
#include "tsp_test_support.h"

namespace tapstack::tsp {
namespace {

using store::Value;
using testing::DemoKek1;
using testing::DemoKek2;

class DataKeyRingTest : public store::testing::StoreTest {
 protected:
  Result<std::unique_ptr<DataKeyRing>> OpenRing(store::Store& store, KeyEncryptionKey kek) {
    return DataKeyRing::Open(store, std::move(kek), random_, clock_);
  }
  // The key bytes of `version` as `ring` unwraps them (in a transaction of its own).
  Result<Bytes> KeyBytes(store::Store& store, DataKeyRing& ring, std::int64_t version) {
    Bytes out;
    TS_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store&) -> Status {
      TS_ASSIGN_OR_RETURN(DataKeyRef ref, ring.KeyForVersion(version));
      out.assign(ref.key->reveal().begin(), ref.key->reveal().end());
      return Status::Ok();
    }));
    return out;
  }
  Status Rotate(DataKeyRing& ring) {
    return store_->RunInTransaction(
        [&](store::Store&) { return ring.RotateInTransaction().status(); });
  }

  ManualClock clock_;
  SeededRandom random_{99};
};

TEST_P(DataKeyRingTest, CreatesVersionOneWrappedUnderTheKek) {
  auto ring = OpenRing(*store_, DemoKek1());
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  auto keys = (*ring)->List();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].version, 1);
  EXPECT_EQ((*keys)[0].state, DataKeyState::kActive);
  EXPECT_EQ((*keys)[0].kek_id, "demo-kek-1");
  // Stored wrapped: 32 key bytes + 16 tag bytes, never the key itself.
  auto row = store_->QueryRow("SELECT wrapped_key FROM tsp_data_keys WHERE version = 1");
  const Bytes key = *KeyBytes(*store_, **ring, 1);
  EXPECT_EQ(row->GetBlob("wrapped_key")->size(), 48u);
  EXPECT_NE(*row->GetBlob("wrapped_key"), key);
  // Reopening finds the same key.
  auto again = OpenRing(*store_, DemoKek1());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*KeyBytes(*store_, **again, 1), key);
}

TEST_P(DataKeyRingTest, RotationKeepsOldVersionsReadable) {
  auto ring = std::move(*OpenRing(*store_, DemoKek1()));
  TS_ASSERT_OK(Rotate(*ring));
  TS_ASSERT_OK(Rotate(*ring));
  auto keys = *ring->List();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].state, DataKeyState::kDecryptOnly);
  EXPECT_EQ(keys[1].state, DataKeyState::kDecryptOnly);
  EXPECT_EQ(keys[2].state, DataKeyState::kActive);
  EXPECT_NE(*KeyBytes(*store_, *ring, 1), *KeyBytes(*store_, *ring, 3));
  TS_ASSERT_OK(store_->RunInTransaction([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(DataKeyRef active, ring->ActiveKeyInTransaction());
    EXPECT_EQ(active.version, 3);
    return Status::Ok();
  }));
  // The partial unique index allows one active key only.
  EXPECT_EQ(store_->Execute("UPDATE tsp_data_keys SET state = 'active' WHERE version = 1")
                .status()
                .code(),
            ErrorCode::kAlreadyExists);
}

TEST_P(DataKeyRingTest, WrongKekBytesFailToOpen) {
  ASSERT_TRUE(OpenRing(*store_, DemoKek1()).ok());
  KeyEncryptionKey impostor{"demo-kek-1", testing::DemoKey(testing::kDemoKek2)};
  auto ring = OpenRing(*store_, std::move(impostor));
  EXPECT_EQ(ring.status().code(), ErrorCode::kCryptoFailure) << ring.status().ToString();
  auto other_id = OpenRing(*store_, DemoKek2());
  EXPECT_EQ(other_id.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(other_id.status().message().find("demo-kek-1"), std::string::npos);
}

TEST_P(DataKeyRingTest, TamperedOrSwappedWrappedKeysDoNotUnwrap) {
  auto ring = std::move(*OpenRing(*store_, DemoKek1()));
  TS_ASSERT_OK(Rotate(*ring));
  // Swap the wrapped keys of versions 1 and 2: the AD binds the version.
  auto rows =
      *store_->Query("SELECT version, wrap_nonce, wrapped_key FROM tsp_data_keys ORDER BY version");
  TS_ASSERT_OK(store_->Execute(
      "UPDATE tsp_data_keys SET wrap_nonce = ?, wrapped_key = ? WHERE version = 1",
      {Value(*rows[1].GetBlob("wrap_nonce")), Value(*rows[1].GetBlob("wrapped_key"))}));
  auto fresh = std::move(*OpenRing(*store_, DemoKek1()));  // version 2 (active) is intact
  auto r1 = KeyBytes(*store_, *fresh, 1);
  EXPECT_EQ(r1.status().code(), ErrorCode::kCryptoFailure) << r1.status().ToString();
  EXPECT_NE(r1.status().message().find("data key version 1"), std::string::npos);
  // A flipped bit in version 2's wrapped key.
  Bytes wrapped = *rows[1].GetBlob("wrapped_key");
  wrapped[0] ^= 0x01;
  TS_ASSERT_OK(store_->Execute("UPDATE tsp_data_keys SET wrapped_key = ? WHERE version = 2",
                               {Value(wrapped)}));
  EXPECT_EQ(KeyBytes(*store_, *fresh, 2).status().code(), ErrorCode::kCryptoFailure);
  EXPECT_EQ(KeyBytes(*store_, *fresh, 7).status().code(), ErrorCode::kNotFound);
}

TEST_P(DataKeyRingTest, RewrapMovesEveryKeyToTheNewKek) {
  auto ring = std::move(*OpenRing(*store_, DemoKek1()));
  TS_ASSERT_OK(Rotate(*ring));
  const Bytes k1 = *KeyBytes(*store_, *ring, 1), k2 = *KeyBytes(*store_, *ring, 2);
  auto old_store = OpenAnother();
  ASSERT_TRUE(old_store.ok());
  auto stale = std::move(*OpenRing(**old_store, DemoKek1()));
  std::int64_t count = 0;
  const KeyEncryptionKey kek2 = DemoKek2();
  TS_ASSERT_OK(store_->RunInTransaction([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(count, ring->RewrapAllInTransaction(kek2));
    return Status::Ok();
  }));
  ring->AdoptKek(DemoKek2());
  EXPECT_EQ(count, 2);
  const std::vector<DataKeyInfo> keys = *ring->List();
  for (const DataKeyInfo& info : keys) EXPECT_EQ(info.kek_id, "demo-kek-2");
  // Same DEKs, now only reachable with the new KEK.
  auto reopened = std::move(*OpenRing(*store_, DemoKek2()));
  EXPECT_EQ(*KeyBytes(*store_, *reopened, 1), k1);
  EXPECT_EQ(*KeyBytes(*store_, *reopened, 2), k2);
  EXPECT_EQ(OpenRing(*store_, DemoKek1()).status().code(), ErrorCode::kFailedPrecondition);
  // A ring still holding the old KEK notices the re-wrap instead of trusting its cache.
  EXPECT_EQ(KeyBytes(**old_store, *stale, 1).status().code(), ErrorCode::kFailedPrecondition);
  // Re-wrapping under the same id is refused.
  TS_ASSERT_OK(store_->Begin());
  EXPECT_EQ(reopened->RewrapAllInTransaction(DemoKek2()).status().code(),
            ErrorCode::kInvalidArgument);
  TS_ASSERT_OK(store_->Rollback());
  stale.reset();
  TS_ASSERT_OK((*old_store)->Close());
}

TEST_P(DataKeyRingTest, RolledBackVersionIsNeverServedFromTheCache) {
  auto ring = std::move(*OpenRing(*store_, DemoKek1()));
  Bytes rolled_back_key;
  TS_ASSERT_OK(store_->Begin());
  ASSERT_EQ(*ring->RotateInTransaction(), 2);
  auto ref = ring->ActiveKeyInTransaction();  // caches version 2
  ASSERT_TRUE(ref.ok());
  rolled_back_key.assign(ref->key->reveal().begin(), ref->key->reveal().end());
  TS_ASSERT_OK(store_->Rollback());
  TS_ASSERT_OK(Rotate(*ring));  // version 2 again, with a new key
  const Bytes served = *KeyBytes(*store_, *ring, 2);
  auto fresh = std::move(*OpenRing(*store_, DemoKek1()));
  EXPECT_EQ(served, *KeyBytes(*store_, *fresh, 2));
  EXPECT_NE(served, rolled_back_key);
}

TEST_P(DataKeyRingTest, RetiresOnlyUnusedDecryptOnlyKeys) {
  auto ring = std::move(*OpenRing(*store_, DemoKek1()));
  TS_ASSERT_OK(Rotate(*ring));
  TS_ASSERT_OK(Rotate(*ring));
  // A token record still using version 2.
  TS_ASSERT_OK(store_->Execute(
      "INSERT INTO tsp_tokens (token_id, token_number, token_expiry, par, masked_pan, "
      "pan_fingerprint, pan_ciphertext, pan_nonce, dek_version, requestor_id, device_id, state, "
      "created_unix_ms, updated_unix_ms) VALUES ('tok_a', '4999000000000000', '2901', 'P', 'M', "
      "?, ?, ?, 2, '40010000001', 'd', 'active', 0, 0)",
      {Value(Bytes{1}), Value(Bytes{2}), Value(Bytes{3})}));
  std::vector<std::int64_t> retired;
  TS_ASSERT_OK(store_->RunInTransaction([&](store::Store&) -> Status {
    TS_ASSIGN_OR_RETURN(retired, ring->RetireUnusedInTransaction());
    return Status::Ok();
  }));
  EXPECT_EQ(retired, std::vector<std::int64_t>{1});
  auto keys = *ring->List();
  EXPECT_EQ(keys[0].state, DataKeyState::kRetired);
  EXPECT_EQ(keys[1].state, DataKeyState::kDecryptOnly);
  auto r = KeyBytes(*store_, *ring, 1);
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("retired"), std::string::npos);
  auto wrapped = store_->QueryRow("SELECT wrapped_key FROM tsp_data_keys WHERE version = 1");
  EXPECT_TRUE(*wrapped->IsNull("wrapped_key"));  // crypto-shredded
}

TEST(KekTest, ValidatesIdAndLength) {
  EXPECT_TRUE(ValidateKek(DemoKek1()).ok());
  const Status bad_id = ValidateKek({"kek 1", testing::DemoKey(testing::kDemoKek1)});
  EXPECT_NE(bad_id.message().find("kek.id"), std::string::npos);
  const Status short_key = ValidateKek({"k", testing::DemoKey("short")});
  EXPECT_NE(short_key.message().find("kek.key"), std::string::npos);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(DataKeyRingTest);

}  // namespace
}  // namespace tapstack::tsp
