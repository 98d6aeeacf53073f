// Offline digital-currency transfers: how fast a payee or the operator verifies them, per
// signature scheme, next to the raw OpenSSL verify rate of that scheme on the same machine.
//
//   build/bench/dcep_offline_bench [--devices 200] [--transfers 20000] [--rounds 20]
//
// For each scheme (SM2-SM3, ECDSA-P256-SHA256, Ed25519):
//   raw OpenSSL   EVP_DigestVerifyInit + EVP_DigestVerify over the same signed bodies, with a
//                 prepared EVP_PKEY (the floor: one verification per transfer, nothing else)
//   full check    VerifyOfflineTransferFromRoot: parse-free, but three verifications per transfer
//                 (operator and device certificates, then the transfer)
//   verifier      dcep_wire::TransferVerifier: each device's chain verified once, then one
//                 verification per transfer plus the expiry / revocation / linkage checks
// Transfers come from --devices payers in turn, as an operator's reconciliation sees them.
// Raw and verifier run interleaved, in --rounds slices of the transfers (which goes first
// alternates), so that a change in the machine's load or clock during the run weighs on both
// rates alike; each rate is its slices' transfers over their summed time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "benchkit/dcep_offline_verify_scenario.h"
#include "crypto/signature.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/transfer_verifier.h"

namespace tapstack::bench {
namespace {

using benchkit::kOfflineNowUnixS;
using crypto::SignatureScheme;
using Clock = std::chrono::steady_clock;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

double Rate(std::size_t n, Clock::duration d) {
  return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

void RunScheme(SignatureScheme scheme, int devices, int count, int rounds) {
  const benchkit::OfflineTransferSet set = Must(benchkit::MakeOfflineTransfers(scheme, devices, count), "fixture");

  const crypto::PublicKey& root = *set.root;
  std::size_t full_n = std::min<std::size_t>(set.transfers.size(), 3000);
  auto start = Clock::now();
  for (std::size_t i = 0; i < full_n; ++i) {
    const benchkit::SignedOfflineTransfer& s = set.transfers[i];
    if (!dcep_wire::VerifyOfflineTransferFromRoot(s.transfer, set.chains[s.device], root, kOfflineNowUnixS).ok()) {
      std::exit(1);
    }
  }
  const double full = Rate(full_n, Clock::now() - start);

  // Raw OpenSSL: nothing but EVP calls on prepared keys (`tapstack bench
  // dcep-offline-verify`'s peer), against the verifier on the same slice.
  const auto raw_keys = Must(benchkit::RawSignatureVerifier::Create(set), "raw keys");
  dcep_wire::TransferVerifier verifier(root);
  Clock::duration raw_time{};
  Clock::duration verifier_time{};
  const std::size_t n = set.transfers.size();
  const std::size_t slices = static_cast<std::size_t>(std::max(1, rounds));
  for (std::size_t r = 0; r < slices; ++r) {
    const std::size_t begin = n * r / slices;
    const std::size_t end = n * (r + 1) / slices;
    auto run_raw = [&] {
      const auto t0 = Clock::now();
      for (std::size_t i = begin; i < end; ++i) {
        if (!raw_keys->Verify(set.transfers[i]).ok()) {
          std::fprintf(stderr, "raw OpenSSL refused transfer %zu\n", i);
          std::exit(1);
        }
      }
      raw_time += Clock::now() - t0;
    };
    auto run_verifier = [&] {
      const auto t0 = Clock::now();
      for (std::size_t i = begin; i < end; ++i) {
        const benchkit::SignedOfflineTransfer& s = set.transfers[i];
        if (!verifier.Verify(s.transfer, set.chains[s.device], kOfflineNowUnixS).ok()) std::exit(1);
      }
      verifier_time += Clock::now() - t0;
    };
    if (r % 2 == 0) {
      run_raw();
      run_verifier();
    } else {
      run_verifier();
      run_raw();
    }
  }
  const double raw = Rate(n, raw_time);
  const double cached = Rate(n, verifier_time);

  std::printf("%-18s  raw OpenSSL %8.0f/s   full check %8.0f/s (%3.0f%%)   verifier %8.0f/s (%3.0f%% of raw; %llu chains verified)\n",
              std::string(crypto::SignatureSchemeName(scheme)).c_str(), raw, full, 100 * full / raw,
              cached, 100 * cached / raw,
              static_cast<unsigned long long>(verifier.stats().chains_verified));
}

}  // namespace
}  // namespace tapstack::bench

int main(int argc, char** argv) {
  using namespace tapstack;
  const int devices = bench::Flag(argc, argv, "--devices", 200);
  const int transfers = bench::Flag(argc, argv, "--transfers", 20'000);
  const int rounds = bench::Flag(argc, argv, "--rounds", 20);
  std::printf("offline transfer verification, one thread, %d transfers from %d payer devices\n",
              transfers, devices);
  for (auto scheme : {crypto::SignatureScheme::kSm2Sm3, crypto::SignatureScheme::kEcdsaP256Sha256,
                      crypto::SignatureScheme::kEd25519}) {
    bench::RunScheme(scheme, devices, transfers, rounds);
  }
  return 0;
}
