// Shared by the offline-settlement tests: a temp directory, a manual clock, a root and an operator
// CA, devices with fresh keys that sign offline transfers with dcep_wire (no secure element), and
// an in-memory OfflinePurses that enforces balances and idempotency keys like the operator.
// The authorities' stores are SQLite files, or schemas of a database of the test's own when the
// fixture's dialect() is PostgreSQL (OfflineDbTest; skipped when TAPSTACK_TEST_PG_URL is unset).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "core/clock.h"
#include "crypto/csprng.h"
#include "crypto/signature.h"
#include "dcep/certificate_authority.h"
#include "dcep_test_util.h"
#include "dcep/ledger_ids.h"
#include "dcep/offline_purses.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/sync_ack.h"

namespace tapstack::dcep::testing {

#define OFFLINE_ASSERT_OK(expr)                                      \
  do {                                                               \
    const ::tapstack::Status ts_s_ = (expr);                         \
    ASSERT_TRUE(ts_s_.ok()) << #expr << ": " << ts_s_.ToString();    \
  } while (false)

template <typename T>
T MustOk(Result<T> r, const char* what = "") {
  EXPECT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

// An in-memory OfflinePurses: balances per (operator, device), wallets credited by unloads, the
// loss account, and idempotency keys remembered with their request.
class FakePurses final : public OfflinePurses {
 public:
  explicit FakePurses(std::string operator_id) : operator_id_(std::move(operator_id)) {}

  Status MovePurseValue(std::string_view payer, std::string_view payee,
                        std::string_view payee_operator, std::int64_t amount,
                        std::string_view key) override {
    const std::string request = "move|" + std::string(payer) + "|" + std::string(payee) + "|" +
                                std::string(payee_operator) + "|" + std::to_string(amount);
    if (Status s = Inject(); !s.ok()) return s;
    if (auto replay = Replay(key, request); replay.has_value()) return *replay;
    std::int64_t& from = purses_[{operator_id_, std::string(payer)}];
    if (from < amount) {
      return FailedPrecondition("balance: " + std::to_string(from) + " fen available, " +
                                std::to_string(amount) + " requested");
    }
    from -= amount;
    purses_[{std::string(payee_operator), std::string(payee)}] += amount;
    keys_[std::string(key)] = request;
    ++moves_;
    return Status::Ok();
  }

  Status UnloadPurseValue(std::string_view device, std::int64_t amount,
                          std::string_view key) override {
    const std::string request = "unload|" + std::string(device) + "|" + std::to_string(amount);
    if (Status s = Inject(); !s.ok()) return s;
    if (auto replay = Replay(key, request); replay.has_value()) return *replay;
    std::int64_t& from = purses_[{operator_id_, std::string(device)}];
    if (from < amount) return FailedPrecondition("balance: purse too small");
    from -= amount;
    wallets_[std::string(device)] += amount;
    keys_[std::string(key)] = request;
    ++moves_;
    return Status::Ok();
  }

  Status CoverOfflineLoss(std::string_view payee, std::string_view payee_operator,
                          std::int64_t amount, std::string_view key) override {
    const std::string request = "loss|" + std::string(payee) + "|" +
                                std::string(payee_operator) + "|" + std::to_string(amount);
    if (Status s = Inject(); !s.ok()) return s;
    if (auto replay = Replay(key, request); replay.has_value()) return *replay;
    loss_fen_ += amount;
    purses_[{std::string(payee_operator), std::string(payee)}] += amount;
    keys_[std::string(key)] = request;
    ++moves_;
    return Status::Ok();
  }

  Result<std::int64_t> PurseBalance(std::string_view device) override {
    return Balance(device);
  }

  std::vector<Status> MovePurseValues(std::span<const PurseMove> moves) override {
    batch_sizes_.push_back(moves.size());
    return OfflinePurses::MovePurseValues(moves);
  }

  // Test side.
  void Fund(const std::string& device, std::int64_t amount) {
    purses_[{operator_id_, device}] += amount;
  }
  std::int64_t Balance(std::string_view device, std::string_view op = "") const {
    auto it = purses_.find({op.empty() ? operator_id_ : std::string(op), std::string(device)});
    return it == purses_.end() ? 0 : it->second;
  }
  std::int64_t Wallet(const std::string& device) const {
    auto it = wallets_.find(device);
    return it == wallets_.end() ? 0 : it->second;
  }
  std::int64_t loss_fen() const { return loss_fen_; }
  int moves() const { return moves_; }
  // The size of each MovePurseValues call, in order.
  const std::vector<std::size_t>& batch_sizes() const { return batch_sizes_; }
  // The next `n` calls fail with kUnavailable and move nothing.
  void FailNext(int n) { fail_next_ = n; }

 private:
  Status Inject() {
    if (fail_next_ > 0) {
      --fail_next_;
      return Unavailable("injected: operator ledger unreachable");
    }
    return Status::Ok();
  }
  std::optional<Status> Replay(std::string_view key, const std::string& request) const {
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return std::nullopt;
    if (it->second != request) return AlreadyExists(std::string(kKeyReusedMessage));
    return Status::Ok();
  }

  std::string operator_id_;
  std::map<std::pair<std::string, std::string>, std::int64_t> purses_;
  std::map<std::string, std::int64_t> wallets_;
  std::map<std::string, std::string> keys_;
  std::int64_t loss_fen_ = 0;
  int moves_ = 0;
  int fail_next_ = 0;
  std::vector<std::size_t> batch_sizes_;
};

// A device known only by its key: it signs transfers the way the applet does.
struct TestDevice {
  std::string id;
  crypto::PrivateKey key;
  Bytes chain;  // E4 from the operator CA
  std::uint32_t counter = 0;
  std::uint32_t log_sequence = 0;
};

inline Bytes Nonce() {
  Bytes nonce(dcep_wire::kNonceBytes);
  crypto::Csprng csprng;
  EXPECT_TRUE(csprng.Fill(nonce).ok());
  return nonce;
}

// The payer signs the next transfer (counter + 1) to `payee`; returns the E2.
inline Bytes SignTransfer(TestDevice& payer, const std::string& payee, std::int64_t amount_fen,
                          std::int64_t time_unix_s = 1'767'225'600) {
  dcep_wire::OfflineTransferBody body;
  body.payer_device_id = payer.id;
  body.payer_counter = ++payer.counter;
  body.payee_device_id = payee;
  body.payee_nonce = Nonce();
  body.amount_fen = amount_fen;
  body.currency_numeric = dcep_wire::kCnyCurrencyNumeric;
  body.time_unix_s = time_unix_s;
  Result<dcep_wire::CertificateChain> chain = dcep_wire::ParseCertificateChain(payer.chain);
  EXPECT_TRUE(chain.ok());
  body.payer_certificate_serial = chain.ok() ? chain->device.body.serial : 0;
  return MustOk(dcep_wire::SignOfflineTransfer(body, payer.key), "sign transfer");
}

// A log record of `owner` (its next log sequence) holding `transfer` and the payer's chain.
inline Bytes LogOf(TestDevice& owner, dcep_wire::LogDirection direction, const Bytes& transfer,
                   const Bytes& payer_chain) {
  return MustOk(dcep_wire::EncodeLogRecord(++owner.log_sequence, direction, transfer, payer_chain),
                "log record");
}

inline Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A temp directory, a clock, the central bank's root and the operator "icbc" CA (certified).
class OfflineTest : public ::testing::Test {
 protected:
  // SQLite unless the test is parameterised (OfflineDbTest).
  virtual store::Dialect dialect() const { return store::Dialect::kSqlite; }

  // Derived SetUps return when IsSkipped() after calling this (no PostgreSQL server).
  void SetUp() override {
    // A parameterised test's name is "Name/sqlite": one directory, not two.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("tapstack-dcep-offline-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (dialect() == store::Dialect::kPostgres) {
      std::string admin_url;
      TS_REQUIRE_POSTGRES(admin_url);
      database_ = std::make_unique<PostgresTestDatabase>(admin_url);
    }
    OpenAuthorities();
  }

  // "" on SQLite; else the URL of this test's own database (for the stores a test opens itself).
  std::string postgres_url() const { return database_ ? database_->url() : std::string(); }
  void TearDown() override {
    operator_ca_.reset();
    root_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenAuthorities(crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3) {
    operator_ca_.reset();
    root_.reset();
    AuthorityOptions root_options;
    root_options.subject_id = "pboc";
    root_options.scheme = scheme;
    root_options.data_dir = dir_;
    root_options.postgres_url = postgres_url();
    root_options.clock = &clock_;
    root_ = MustOk(RootAuthority::Open(std::move(root_options)), "open root");
    operator_ca_ = OpenOperatorCa("icbc", scheme);
  }

  std::unique_ptr<OperatorAuthority> OpenOperatorCa(const std::string& id,
                                                    crypto::SignatureScheme scheme,
                                                    RevocationRegistry* registry = nullptr) {
    OperatorAuthorityOptions options;
    options.registry = registry;
    options.authority.subject_id = id;
    options.authority.scheme = scheme;
    options.authority.data_dir = dir_;
    options.authority.postgres_url = postgres_url();
    options.authority.clock = &clock_;
    options.root_certificate = root_->certificate().encoded;
    auto ca = MustOk(OperatorAuthority::Open(std::move(options)), "open operator ca");
    if (!ca->OperatorCertificate().ok()) {
      const Bytes cert = MustOk(
          root_->IssueOperatorCertificate(id, ca->scheme(), ca->public_key_raw()), "operator cert");
      EXPECT_TRUE(ca->InstallCertificate(cert).ok());
    }
    return ca;
  }

  // A device with a fresh key, certified by `ca` (default: icbc) at `tier`.
  TestDevice NewDevice(const std::string& id, int tier = 4, OperatorAuthority* ca = nullptr,
                       crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3) {
    if (ca == nullptr) ca = operator_ca_.get();
    TestDevice d{id, MustOk(crypto::PrivateKey::Generate(scheme), "device key"), {}, 0, 0};
    DeviceCertificateRequest request;
    request.device_id = id;
    request.scheme = scheme;
    request.public_key_raw = MustOk(d.key.public_key().ToRaw(), "raw key");
    request.tier = tier;
    MustOk(ca->IssueDeviceCertificate(request), "device cert");
    d.chain = MustOk(ca->DeviceChain(id), "device chain");
    return d;
  }

  // Parses and verifies a sync acknowledgement under the icbc CA key.
  dcep_wire::SyncAck VerifiedAck(const Bytes& encoded) {
    dcep_wire::SyncAck ack = MustOk(dcep_wire::ParseSyncAck(encoded), "parse ack");
    const crypto::PublicKey key = MustOk(
        crypto::PublicKey::FromRaw(operator_ca_->scheme(), operator_ca_->public_key_raw()), "key");
    EXPECT_TRUE(dcep_wire::VerifySyncAck(ack, key).ok());
    return ack;
  }

  // First member: dropped last, after every store of the test (members of derived fixtures too)
  // has closed.
  std::unique_ptr<PostgresTestDatabase> database_;
  std::filesystem::path dir_;
  ManualClock clock_{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  std::unique_ptr<RootAuthority> root_;
  std::unique_ptr<OperatorAuthority> operator_ca_;
};

// OfflineTest on both databases: TEST_P(Suite, …) and TS_INSTANTIATE_FOR_BOTH_DATABASES(Suite).
class OfflineDbTest : public OfflineTest, public ::testing::WithParamInterface<store::Dialect> {
 protected:
  store::Dialect dialect() const override { return GetParam(); }
};

}  // namespace tapstack::dcep::testing
