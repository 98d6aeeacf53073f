// Offline digital currency: how fast an operator reconciles uploaded offline transfers.
//
//   build/bench/dcep_sync_bench [--transfers 20000] [--payers 200] [--payees 20]
//
// A network with one operator (ICBC) on the real disk: --payers watches certified to tier-1
// wallets with funded purses, --payees merchant tills; every payer signs its share of
// --transfers offline transfers (ECDSA P-256 keys made here, as a watch's secure element would
// sign them) and uploads its log in READ LOG form, 1,000 records per upload. Each record is
// verified from the root (TransferVerifier: each chain once), recorded under (payer, counter) and
// settled purse → purse durably (journal commit + ledger transfer) before Upload answers; then the
// payees upload the same transfers, which are recognised as duplicates. The network audit must
// balance at the end.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_util.h"
#include "dcep/dcep_network.h"
#include "dcep/tiers.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"

namespace tapstack::bench {
namespace {

using Steady = std::chrono::steady_clock;
constexpr int kRecordsPerUpload = 1000;
constexpr std::int64_t kAmountFen = 100;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}
void Must(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

struct Device {
  std::string id;
  crypto::PrivateKey key;
  Bytes chain;  // E4
  std::uint64_t serial = 0;
  std::vector<Bytes> log;  // E9 records, in order
};

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace
}  // namespace tapstack::bench

int main(int argc, char** argv) {
  using namespace tapstack;
  using namespace tapstack::bench;
  const int transfers = Flag(argc, argv, "--transfers", 20'000);
  const int payers = Flag(argc, argv, "--payers", 200);
  const int payees = Flag(argc, argv, "--payees", 20);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tapstack-dcep-sync-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  dcep::DcepNetworkOptions options;
  options.data_dir = dir;
  options.config = Must(dcep::LoadDcepConfig(Must(dcep::DefaultDcepConfigPath(), "config path")), "config");
  options.operator_ids = {"icbc"};
  auto network = Must(dcep::DcepNetwork::Open(std::move(options)), "open network");
  dcep::Operator& icbc = *Must(network->operator_of("icbc"), "icbc");
  dcep::HardwareWallets& wallets = *Must(network->hardware_wallets("icbc"), "hardware wallets");
  const int per_payer = (transfers + payers - 1) / payers;
  const std::int64_t purse_fen = per_payer * kAmountFen;
  Must(icbc.RequestIssuance(purse_fen * payers, "bench-issue"), "issuance");

  auto make_device = [&](const std::string& id, const std::string& phone, std::int64_t fund) {
    dcep::TierEvidence evidence{phone, "Bench Holder", "110101199001011234", "6222020200000001", true};
    const dcep::WalletInfo w = Must(icbc.OpenWallet(evidence, "open-" + id), "open wallet");
    if (fund > 0) Must(icbc.Exchange(w.wallet_id, fund, false, "exchange-" + id), "exchange");
    Device d{id, Must(crypto::PrivateKey::Generate(crypto::SignatureScheme::kEcdsaP256Sha256), "key"), {}, 0, {}};
    const Bytes raw = Must(d.key.public_key().ToRaw(), "raw key");
    d.chain = Must(wallets.CertifyDevice(w.wallet_id, id, crypto::SignatureScheme::kEcdsaP256Sha256, raw), "certify");
    d.serial = Must(wallets.authority().DeviceCertificate(id), "certificate").body.serial;
    if (fund > 0) Must(icbc.FundOfflinePurse(w.wallet_id, id, fund, "fund-" + id), "fund purse");
    return d;
  };
  std::vector<Device> payer_devices, payee_devices;
  for (int i = 0; i < payees; ++i) {
    payee_devices.push_back(make_device("till-" + std::to_string(i), "+861390000" + std::to_string(1000 + i), 0));
  }
  for (int i = 0; i < payers; ++i) {
    payer_devices.push_back(make_device("watch-" + std::to_string(i), "+861380000" + std::to_string(1000 + i), purse_fen));
  }

  // The offline payments, as the payers' secure elements would have signed them.
  const auto sign_start = Steady::now();
  int made = 0;
  for (int c = 1; c <= per_payer && made < transfers; ++c) {
    for (Device& payer : payer_devices) {
      if (made == transfers) break;
      Device& payee = payee_devices[static_cast<std::size_t>(made % payees)];
      dcep_wire::OfflineTransferBody body{payer.id, static_cast<std::uint32_t>(c), payee.id,
                                          Bytes(16, static_cast<std::uint8_t>(made)), kAmountFen,
                                          156, 1'795'000'000, payer.serial};
      const Bytes e2 = Must(dcep_wire::SignOfflineTransfer(body, payer.key), "sign");
      payer.log.push_back(Must(dcep_wire::EncodeLogRecord(static_cast<std::uint32_t>(payer.log.size() + 1),
                                                          dcep_wire::LogDirection::kSent, e2, payer.chain),
                               "payer log"));
      payee.log.push_back(Must(dcep_wire::EncodeLogRecord(static_cast<std::uint32_t>(payee.log.size() + 1),
                                                          dcep_wire::LogDirection::kReceived, e2, payer.chain),
                               "payee log"));
      ++made;
    }
  }
  const double sign_s = Seconds(Steady::now() - sign_start);

  auto upload_all = [&](std::vector<Device>& devices, std::int64_t& settled, std::int64_t& duplicates) {
    for (Device& d : devices) {
      for (std::size_t at = 0; at < d.log.size(); at += kRecordsPerUpload) {
        Bytes batch;
        for (std::size_t k = at; k < std::min(d.log.size(), at + kRecordsPerUpload); ++k) {
          batch.insert(batch.end(), d.log[k].begin(), d.log[k].end());
        }
        const dcep::UploadResult r = Must(wallets.Upload(d.id, batch), "upload");
        for (const dcep::UploadedRecord& rec : r.records) {
          if (rec.outcome == dcep::RecordOutcome::kSettled) ++settled;
          if (rec.outcome == dcep::RecordOutcome::kDuplicate) ++duplicates;
        }
      }
    }
  };
  std::int64_t settled = 0, duplicates = 0;
  auto start = Steady::now();
  upload_all(payer_devices, settled, duplicates);
  const double payer_s = Seconds(Steady::now() - start);
  start = Steady::now();
  upload_all(payee_devices, settled, duplicates);
  const double payee_s = Seconds(Steady::now() - start);
  Must(network->AuditNetwork().status(), "network audit");

  std::printf("offline sync reconciliation, %d transfers from %d payer watches to %d tills (P-256)\n",
              made, payers, payees);
  std::printf("  signing (bench set-up)           %8.0f transfers/s\n", made / sign_s);
  std::printf("  payers upload: verify + settle   %8.0f records/s (%lld settled, %.1f s)\n",
              made / payer_s, static_cast<long long>(settled), payer_s);
  std::printf("  payees upload the same records   %8.0f records/s (%lld duplicates, %.1f s)\n",
              made / payee_s, static_cast<long long>(duplicates), payee_s);
  std::printf("  1,000,000 transfers at this rate: %.0f s to settle, %.0f s to de-duplicate; audit ok\n",
              1e6 / (made / payer_s), 1e6 / (made / payee_s));
  network.reset();
  std::filesystem::remove_all(dir);
  return settled == made && duplicates == made ? 0 : 1;
}
