#include "dcep/certificate_authority.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dcep/offline_test_util.h"
#include "dcep_wire/certificate.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/sync_ack.h"
#include "store/sqlite_store.h"

namespace tapstack::dcep {
namespace {

using testing::MustOk;
using testing::OfflineTest;

constexpr std::int64_t kNowS = 1'767'225'600;

crypto::PublicKey OperatorKey(const OperatorAuthority& ca) {
  return MustOk(crypto::PublicKey::FromRaw(ca.scheme(), ca.public_key_raw()), "operator key");
}

class CertificateAuthorityTest : public OfflineTest {};

TEST_F(CertificateAuthorityTest, RootIsSelfSignedAndKeepsItsKeyAcrossReopen) {
  const dcep_wire::Certificate& root = root_->certificate();
  EXPECT_EQ(root.body.role, dcep_wire::CertificateRole::kRoot);
  EXPECT_EQ(root.body.subject_id, "pboc");
  EXPECT_EQ(root.body.issuer_id, "pboc");
  EXPECT_EQ(root.body.scheme, crypto::SignatureScheme::kSm2Sm3);  // the default
  EXPECT_TRUE(dcep_wire::VerifyCertificate(root, root_->public_key()).ok());
  EXPECT_EQ(root.body.not_after_unix_s,
            kNowS + kRootCertificateValidityDaysDefault * kSecondsPerDay);
  const Bytes before = root.encoded;
  OpenAuthorities();  // reopen both from the same store
  EXPECT_EQ(root_->certificate().encoded, before);
  EXPECT_TRUE(operator_ca_->OperatorCertificate().ok());
}

TEST_F(CertificateAuthorityTest, PrivateKeyIsSealedInTheStoreAndNeedsTheRightKek) {
  // The stored row carries no PKCS#8 in clear: the DER's SEQUENCE header and the public key's
  // bytes are not in the sealed blob.
  auto store = MustOk(store::OpenSqlite(dir_, "dcep_ca_pboc"), "open store");
  const store::Row row = MustOk(
      store->QueryRow("SELECT sealed_pkcs8, public_key FROM dcep_ca_key WHERE subject_id = 'pboc'"));
  const Bytes sealed = MustOk(row.GetBlob("sealed_pkcs8"));
  EXPECT_NE(sealed.size(), 0U);
  EXPECT_NE(sealed[0], 0x30) << "looks like clear DER";
  store.reset();
  root_.reset();
  operator_ca_.reset();

  AuthorityOptions options;
  options.subject_id = "pboc";
  options.data_dir = dir_;
  options.clock = &clock_;
  options.key_encryption_key = crypto::SecretBytes(Bytes(32, 0x42));
  Result<std::unique_ptr<RootAuthority>> wrong = RootAuthority::Open(std::move(options));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kCryptoFailure);

  AuthorityOptions short_kek;
  short_kek.subject_id = "pboc";
  short_kek.data_dir = dir_;
  short_kek.key_encryption_key = crypto::SecretBytes(Bytes(16, 0x42));
  EXPECT_EQ(RootAuthority::Open(std::move(short_kek)).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(CertificateAuthorityTest, OperatorCertificateIsCheckedBeforeInstall) {
  OperatorAuthorityOptions options;
  options.authority.subject_id = "ccb";
  options.authority.data_dir = dir_;
  options.authority.clock = &clock_;
  options.root_certificate = root_->certificate().encoded;
  auto ccb = MustOk(OperatorAuthority::Open(std::move(options)));
  EXPECT_EQ(ccb->OperatorCertificate().status().code(), ErrorCode::kFailedPrecondition);
  testing::TestDevice probe{"w1", MustOk(crypto::PrivateKey::Generate(ccb->scheme())), {}, 0, 0};
  DeviceCertificateRequest request{"w1", ccb->scheme(), MustOk(probe.key.public_key().ToRaw()), 4,
                                   30};
  EXPECT_EQ(ccb->IssueDeviceCertificate(request).status().code(),
            ErrorCode::kFailedPrecondition);

  // Another operator's certificate, and one for another key.
  const Bytes icbc_cert = MustOk(operator_ca_->OperatorCertificate()).encoded;
  EXPECT_EQ(ccb->InstallCertificate(icbc_cert).code(), ErrorCode::kInvalidArgument);
  const Bytes other_key = MustOk(MustOk(crypto::PrivateKey::Generate(ccb->scheme()))
                                     .public_key()
                                     .ToRaw());
  const Bytes wrong_key = MustOk(root_->IssueOperatorCertificate("ccb", ccb->scheme(), other_key));
  EXPECT_EQ(ccb->InstallCertificate(wrong_key).code(), ErrorCode::kInvalidArgument);
  // Signed by another root.
  auto rogue_key = MustOk(crypto::PrivateKey::Generate(crypto::SignatureScheme::kSm2Sm3));
  dcep_wire::CertificateBody body;
  body.serial = 7;
  body.issuer_id = "pboc";
  body.subject_id = "ccb";
  body.role = dcep_wire::CertificateRole::kOperator;
  body.scheme = ccb->scheme();
  body.public_key = ccb->public_key_raw();
  body.not_after_unix_s = kNowS + 1000;
  const Bytes rogue = MustOk(dcep_wire::IssueCertificate(body, rogue_key));
  EXPECT_EQ(ccb->InstallCertificate(rogue).code(), ErrorCode::kCryptoFailure);

  const Bytes good = MustOk(root_->IssueOperatorCertificate("ccb", ccb->scheme(),
                                                            ccb->public_key_raw()));
  OFFLINE_ASSERT_OK(ccb->InstallCertificate(good));
  EXPECT_EQ(MustOk(ccb->OperatorCertificate()).encoded, good);
  EXPECT_TRUE(ccb->IssueDeviceCertificate(request).ok());
}

TEST_F(CertificateAuthorityTest, DeviceCertificatesCarryTierCapsAndVerifyFromTheRoot) {
  const dcep_wire::Certificate op = MustOk(operator_ca_->OperatorCertificate());
  std::uint64_t last_serial = 0;  // serials are per issuer
  for (int tier = 1; tier <= 4; ++tier) {
    const std::string id = "watch-" + std::to_string(tier);
    testing::TestDevice d = NewDevice(id, tier);
    const dcep_wire::Certificate cert = MustOk(operator_ca_->DeviceCertificate(id));
    const OfflineCaps& caps = DefaultOfflineCapsTable()[static_cast<std::size_t>(tier - 1)];
    EXPECT_EQ(cert.body.tier, tier);
    EXPECT_EQ(cert.body.offline_balance_max_fen, caps.balance_max_fen);
    EXPECT_EQ(cert.body.offline_payment_max_fen, caps.payment_max_fen);
    EXPECT_EQ(cert.body.offline_payments_before_sync_max, caps.payments_before_sync_max);
    EXPECT_EQ(cert.body.offline_value_before_sync_max_fen, caps.value_before_sync_max_fen);
    EXPECT_EQ(cert.body.offline_unsynced_max_age_s, caps.unsynced_max_age_s);
    EXPECT_EQ(cert.body.issuer_id, "icbc");
    EXPECT_EQ(cert.body.not_after_unix_s, kNowS + 30 * kSecondsPerDay);
    EXPECT_GT(cert.body.serial, last_serial);
    last_serial = cert.body.serial;
    EXPECT_TRUE(dcep_wire::VerifyChain(root_->public_key(), op, cert, kNowS).ok());
    EXPECT_EQ(dcep_wire::VerifyChain(root_->public_key(), op, cert, kNowS + 31 * kSecondsPerDay)
                  .code(),
              ErrorCode::kOutOfRange);
  }
  // The documented tier 4 defaults.
  EXPECT_EQ(DefaultOfflineCapsTable()[3],
            (OfflineCaps{100'000, 50'000, 20, 200'000, 3 * kSecondsPerDay}));

  DeviceCertificateRequest bad{"watch-x", crypto::SignatureScheme::kSm2Sm3, Bytes(65, 0x04), 4, 30};
  EXPECT_EQ(operator_ca_->IssueDeviceCertificate(bad).status().code(),
            ErrorCode::kInvalidArgument);
  testing::TestDevice d = NewDevice("watch-y");
  DeviceCertificateRequest tier5{"watch-y", crypto::SignatureScheme::kSm2Sm3,
                                 MustOk(d.key.public_key().ToRaw()), 5, 30};
  EXPECT_EQ(operator_ca_->IssueDeviceCertificate(tier5).status().code(),
            ErrorCode::kInvalidArgument);
  tier5.tier = 4;
  tier5.validity_days = 0;
  EXPECT_EQ(operator_ca_->IssueDeviceCertificate(tier5).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(operator_ca_->DeviceCertificate("nobody").status().code(), ErrorCode::kNotFound);
}

TEST_F(CertificateAuthorityTest, EverySchemeIssuesVerifiableChains) {
  for (crypto::SignatureScheme scheme :
       {crypto::SignatureScheme::kSm2Sm3, crypto::SignatureScheme::kEcdsaP256Sha256,
        crypto::SignatureScheme::kEd25519}) {
    SCOPED_TRACE(std::string(crypto::SignatureSchemeName(scheme)));
    operator_ca_.reset();
    root_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenAuthorities(scheme);
    EXPECT_EQ(root_->certificate().body.scheme, scheme);
    EXPECT_EQ(operator_ca_->scheme(), scheme);
    testing::TestDevice d = NewDevice("phone-1", 3, nullptr, scheme);
    const dcep_wire::CertificateChain chain = MustOk(dcep_wire::ParseCertificateChain(d.chain));
    EXPECT_TRUE(
        dcep_wire::VerifyChain(root_->public_key(), chain.operator_cert, chain.device, kNowS).ok());
    const Bytes order = MustOk(operator_ca_->SignLoadOrder("phone-1", 1000, "k1"));
    EXPECT_TRUE(dcep_wire::VerifyLoadOrder(MustOk(dcep_wire::ParseLoadOrder(order)),
                                           OperatorKey(*operator_ca_))
                    .ok());
  }
}

TEST_F(CertificateAuthorityTest, LoadOrdersAreSequencedAndIdempotent) {
  NewDevice("watch-1");
  const Bytes first = MustOk(operator_ca_->SignLoadOrder("watch-1", 30'000, "load-a"));
  const Bytes second = MustOk(operator_ca_->SignLoadOrder("watch-1", 20'000, "load-b"));
  const dcep_wire::LoadOrder a = MustOk(dcep_wire::ParseLoadOrder(first));
  const dcep_wire::LoadOrder b = MustOk(dcep_wire::ParseLoadOrder(second));
  EXPECT_EQ(a.body.load_sequence, 1U);
  EXPECT_EQ(b.body.load_sequence, 2U);
  EXPECT_EQ(a.body.amount_fen, 30'000);
  EXPECT_EQ(a.body.currency_numeric, 156);
  EXPECT_EQ(a.body.operator_certificate_serial,
            MustOk(operator_ca_->OperatorCertificate()).body.serial);
  EXPECT_TRUE(dcep_wire::VerifyLoadOrder(a, OperatorKey(*operator_ca_)).ok());

  // A retry answers the same bytes; another amount under the key is refused.
  EXPECT_EQ(MustOk(operator_ca_->SignLoadOrder("watch-1", 30'000, "load-a")), first);
  const Result<Bytes> reused = operator_ca_->SignLoadOrder("watch-1", 30'001, "load-a");
  EXPECT_EQ(reused.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(reused.status().message(), kKeyReusedMessage);

  // Above the tier 4 offline balance cap, zero, unknown device.
  EXPECT_EQ(operator_ca_->SignLoadOrder("watch-1", 100'001, "load-c").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(operator_ca_->SignLoadOrder("watch-1", 0, "load-c").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(operator_ca_->SignLoadOrder("watch-9", 10, "load-c").status().code(),
            ErrorCode::kNotFound);

  // The sequence survives a restart.
  OpenAuthorities();
  const dcep_wire::LoadOrder c =
      MustOk(dcep_wire::ParseLoadOrder(MustOk(operator_ca_->SignLoadOrder("watch-1", 5, "load-d"))));
  EXPECT_EQ(c.body.load_sequence, 3U);

  // Revoked: no more loads, no new certificate; the old retry still answers.
  OFFLINE_ASSERT_OK(operator_ca_->Revoke("watch-1", kRevocationReasonFrozen));
  EXPECT_EQ(operator_ca_->SignLoadOrder("watch-1", 5, "load-e").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(MustOk(operator_ca_->SignLoadOrder("watch-1", 30'000, "load-a")), first);
  DeviceCertificateRequest renew;
  renew.device_id = "watch-1";
  renew.public_key_raw = MustOk(operator_ca_->DeviceCertificate("watch-1")).body.public_key;
  EXPECT_EQ(operator_ca_->IssueDeviceCertificate(renew).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(CertificateAuthorityTest, RevocationListVersionsAndSyncAck) {
  NewDevice("watch-1");
  NewDevice("watch-2");
  NewDevice("watch-3");
  RevocationList empty = MustOk(operator_ca_->CurrentRevocationList());
  EXPECT_EQ(empty.version, 0U);
  EXPECT_TRUE(empty.entries.empty());

  OFFLINE_ASSERT_OK(operator_ca_->Revoke("watch-2", kRevocationReasonDoubleSpend));
  OFFLINE_ASSERT_OK(operator_ca_->Revoke("watch-2", kRevocationReasonFrozen));  // no-op
  OFFLINE_ASSERT_OK(operator_ca_->Revoke("watch-3", kRevocationReasonFrozen));
  EXPECT_EQ(operator_ca_->Revoke("nobody", kRevocationReasonFrozen).code(), ErrorCode::kNotFound);
  const RevocationList list = MustOk(operator_ca_->CurrentRevocationList());
  EXPECT_EQ(list.version, 2U);
  ASSERT_EQ(list.entries.size(), 2U);
  EXPECT_EQ(list.entries[0].device_id, "watch-3");
  EXPECT_EQ(list.entries[1].device_id, "watch-2");
  EXPECT_EQ(list.entries[1].reason, kRevocationReasonDoubleSpend);  // first reason kept
  EXPECT_EQ(list.entries[1].serial, MustOk(operator_ca_->DeviceCertificate("watch-2")).body.serial);
  EXPECT_TRUE(MustOk(operator_ca_->IsRevoked("watch-2")));
  EXPECT_FALSE(MustOk(operator_ca_->IsRevoked("watch-1")));

  clock_.AdvanceMillis(5'000);
  const dcep_wire::SyncAck ack = VerifiedAck(MustOk(operator_ca_->IssueSyncAck("watch-1", 17)));
  EXPECT_EQ(ack.body.device_id, "watch-1");
  EXPECT_EQ(ack.body.log_sequence_acknowledged, 17U);
  EXPECT_EQ(ack.body.operator_time_unix_s, kNowS + 5);
  EXPECT_EQ(ack.body.revocation_list_version, 2U);
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "watch-3"},
                                                                     {"icbc", "watch-2"}}));

  // Once the revoked certificates have expired they need no listing; the version stays.
  clock_.AdvanceMillis(31 * kSecondsPerDay * 1000);
  const dcep_wire::SyncAck later = VerifiedAck(MustOk(operator_ca_->IssueSyncAck("watch-1", 17)));
  EXPECT_TRUE(later.body.revoked.empty());
  EXPECT_EQ(later.body.revocation_list_version, 2U);
  EXPECT_EQ(operator_ca_->IssueSyncAck("nobody", 1).status().code(), ErrorCode::kNotFound);
}

// A registry that can be switched off, over the root.
class FlakyRegistry final : public RevocationRegistry {
 public:
  explicit FlakyRegistry(RevocationRegistry& inner) : inner_(inner) {}
  bool down = false;
  Status Publish(const NetworkRevocation& entry) override {
    if (down) return Unavailable("registry down");
    return inner_.Publish(entry);
  }
  Result<std::vector<NetworkRevocation>> Since(std::uint32_t after, std::size_t limit) override {
    if (down) return Unavailable("registry down");
    return inner_.Since(after, limit);
  }

 private:
  RevocationRegistry& inner_;
};

TEST_F(CertificateAuthorityTest, SyncAcknowledgementsCarryTheNetworkMergedRevocationList) {
  FlakyRegistry registry(*root_);
  auto icbc = OpenOperatorCa("icbc", crypto::SignatureScheme::kSm2Sm3, &registry);
  auto ccb = OpenOperatorCa("ccb", crypto::SignatureScheme::kSm2Sm3, &registry);
  NewDevice("watch-1", 4, icbc.get());
  NewDevice("watch-2", 4, icbc.get());
  NewDevice("watch-1", 4, ccb.get());  // the same device id at another operator
  NewDevice("watch-9", 4, ccb.get());

  OFFLINE_ASSERT_OK(icbc->Revoke("watch-2", kRevocationReasonDoubleSpend));
  // ccb's devices learn of icbc's revocation at their next sync, named with its issuer.
  dcep_wire::SyncAck ack = MustOk(dcep_wire::ParseSyncAck(MustOk(ccb->IssueSyncAck("watch-9", 0))));
  EXPECT_TRUE(dcep_wire::VerifySyncAck(ack, OperatorKey(*ccb)).ok());
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "watch-2"}}));
  EXPECT_EQ(ack.body.revocation_list_version, 1U);

  // The registry is down: ccb's own revocation goes out at once, icbc learns it later.
  registry.down = true;
  OFFLINE_ASSERT_OK(ccb->Revoke("watch-1", kRevocationReasonFrozen));
  ack = MustOk(dcep_wire::ParseSyncAck(MustOk(ccb->IssueSyncAck("watch-9", 0))));
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"ccb", "watch-1"},
                                                                     {"icbc", "watch-2"}}));
  EXPECT_EQ(ack.body.revocation_list_version, 2U);
  ack = MustOk(dcep_wire::ParseSyncAck(MustOk(icbc->IssueSyncAck("watch-1", 0))));
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "watch-2"}}));
  EXPECT_EQ(icbc->SyncWithRegistry().code(), ErrorCode::kUnavailable);

  // Back up: ccb publishes what it held back at its next sync, then icbc's devices hear of it.
  registry.down = false;
  OFFLINE_ASSERT_OK(ccb->SyncWithRegistry());
  ack = MustOk(dcep_wire::ParseSyncAck(MustOk(icbc->IssueSyncAck("watch-1", 0))));
  // icbc's watch-1 is not ccb's watch-1: the pair names the issuer.
  EXPECT_EQ(ack.body.revoked, (std::vector<dcep_wire::RevokedDevice>{{"icbc", "watch-2"},
                                                                     {"ccb", "watch-1"}}));
  EXPECT_FALSE(MustOk(icbc->IsRevoked("watch-1")));
  const std::uint32_t icbc_version = ack.body.revocation_list_version;
  // The registry has both, once each, numbered in the order it heard of them.
  const std::vector<NetworkRevocation> all = MustOk(root_->Since(0, kRegistryPageEntriesMax));
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].issuer_id, "icbc");
  EXPECT_EQ(all[0].network_version, 1U);
  EXPECT_EQ(all[1].issuer_id, "ccb");
  EXPECT_EQ(all[1].reason, kRevocationReasonFrozen);
  EXPECT_EQ(all[1].network_version, 2U);
  OFFLINE_ASSERT_OK(ccb->Revoke("watch-1", kRevocationReasonDoubleSpend));  // no-op
  EXPECT_EQ(MustOk(root_->Since(0, kRegistryPageEntriesMax)).size(), 2U);
  EXPECT_EQ(MustOk(ccb->NetworkRevocations()).size(), 2U);
  // Versions only grow, also across a reopen.
  icbc = OpenOperatorCa("icbc", crypto::SignatureScheme::kSm2Sm3, &registry);
  ack = MustOk(dcep_wire::ParseSyncAck(MustOk(icbc->IssueSyncAck("watch-1", 0))));
  EXPECT_GE(ack.body.revocation_list_version, icbc_version);
  EXPECT_EQ(ack.body.revoked.size(), 2U);
}

TEST_F(CertificateAuthorityTest, RegistryRefusesBadEntriesAndLimits) {
  NetworkRevocation e{"icbc", "watch-1", 3, "", kNowS, 0, 0};
  EXPECT_EQ(root_->Publish(e).code(), ErrorCode::kInvalidArgument);  // no reason
  e.reason = "frozen";
  e.issuer_id = "Not An Operator";
  EXPECT_EQ(root_->Publish(e).code(), ErrorCode::kInvalidArgument);
  e.issuer_id = "icbc";
  e.device_id = "Bad Id";
  EXPECT_EQ(root_->Publish(e).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(MustOk(root_->Since(0, 1)).empty());
  EXPECT_EQ(root_->Since(0, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(root_->Since(0, kRegistryPageEntriesMax + 1).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tapstack::dcep
