// Offline digital-currency transfers: how fast a payee or the operator verifies them, per
// signature scheme, next to the raw OpenSSL verify rate of that scheme on the same machine.
//
//   build/bench/dcep_offline_bench [--devices 200] [--transfers 20000]
//
// For each scheme (SM2-SM3, ECDSA-P256-SHA256, Ed25519):
//   raw OpenSSL   EVP_DigestVerifyInit + EVP_DigestVerify over the same signed bodies, with a
//                 prepared EVP_PKEY (the floor: one verification per transfer, nothing else)
//   full check    VerifyOfflineTransferFromRoot: parse-free, but three verifications per transfer
//                 (operator and device certificates, then the transfer)
//   verifier      dcep_wire::TransferVerifier: each device's chain verified once, then one
//                 verification per transfer plus the expiry / revocation / linkage checks
// Transfers come from --devices payers in turn, as an operator's reconciliation sees them.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "crypto/signature.h"
#include "dcep_wire/certificate.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/transfer_verifier.h"

namespace tapstack::bench {
namespace {

using crypto::SignatureScheme;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kNow = 1'795'000'000;
constexpr std::int64_t kNotAfter = 1'900'000'000;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

dcep_wire::Certificate Issue(const std::string& issuer, const std::string& subject,
                             dcep_wire::CertificateRole role, const crypto::PrivateKey& subject_key,
                             const crypto::PrivateKey& issuer_key, std::uint64_t serial) {
  dcep_wire::CertificateBody body;
  body.serial = serial;
  body.issuer_id = issuer;
  body.subject_id = subject;
  body.role = role;
  body.scheme = subject_key.scheme();
  body.public_key = Must(subject_key.public_key().ToRaw(), "raw key");
  body.not_after_unix_s = kNotAfter;
  if (role == dcep_wire::CertificateRole::kDevice) {
    body.tier = 4;
    body.offline_balance_max_fen = 100'000;
    body.offline_payment_max_fen = 50'000;
    body.offline_payments_before_sync_max = 20;
    body.offline_value_before_sync_max_fen = 200'000;
  }
  return Must(dcep_wire::ParseCertificate(Must(dcep_wire::IssueCertificate(body, issuer_key), "issue")),
              "parse certificate");
}

struct Signed {
  dcep_wire::OfflineTransfer transfer;
  std::size_t device = 0;
};

double Rate(std::size_t n, Clock::duration d) {
  return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

// Raw OpenSSL: what verifying `transfers` costs with nothing but EVP calls on prepared keys.
double RawOpenSslRate(SignatureScheme scheme, const std::vector<Signed>& transfers,
                      const std::vector<crypto::PrivateKey>& keys) {
  // The bench's own EVP_PKEYs from the keys' SPKI encodings (crypto/ keeps its EVP_PKEY private).
  std::vector<EVP_PKEY*> pkeys;
  for (const auto& k : keys) {
    const Bytes spki = Must(k.public_key().ToSpkiDer(), "spki");
    const unsigned char* p = spki.data();
    pkeys.push_back(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  }
  std::size_t ok = 0;
  const auto start = Clock::now();
  for (const Signed& s : transfers) {
    const Bytes der = scheme == SignatureScheme::kEd25519
                          ? s.transfer.signature
                          : Must(crypto::SignatureRawToDer(s.transfer.signature), "der");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = scheme == SignatureScheme::kEd25519 ? nullptr
                       : scheme == SignatureScheme::kSm2Sm3 ? EVP_sm3()
                                                             : EVP_sha256();
    if (scheme == SignatureScheme::kSm2Sm3) {
      pctx = EVP_PKEY_CTX_new(pkeys[s.device], nullptr);
      EVP_PKEY_CTX_set1_id(pctx, crypto::kSm2DefaultId.data(), crypto::kSm2DefaultId.size());
      EVP_MD_CTX_set_pkey_ctx(ctx, pctx);
    }
    if (EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkeys[s.device]) == 1 &&
        EVP_DigestVerify(ctx, der.data(), der.size(), s.transfer.signed_body.data(),
                         s.transfer.signed_body.size()) == 1) {
      ++ok;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_CTX_free(pctx);
  }
  const double rate = Rate(transfers.size(), Clock::now() - start);
  for (EVP_PKEY* k : pkeys) EVP_PKEY_free(k);
  if (ok != transfers.size()) {
    std::fprintf(stderr, "raw OpenSSL verified %zu of %zu\n", ok, transfers.size());
    std::exit(1);
  }
  return rate;
}

void RunScheme(SignatureScheme scheme, int devices, int count) {
  const auto root_key = Must(crypto::PrivateKey::Generate(scheme), "root key");
  const auto operator_key = Must(crypto::PrivateKey::Generate(scheme), "operator key");
  const auto operator_cert = Issue("pboc", "icbc", dcep_wire::CertificateRole::kOperator,
                                   operator_key, root_key, 100);
  std::vector<crypto::PrivateKey> keys;
  std::vector<dcep_wire::CertificateChain> chains;
  for (int d = 0; d < devices; ++d) {
    keys.push_back(Must(crypto::PrivateKey::Generate(scheme), "device key"));
    chains.push_back({Issue("icbc", "watch-" + std::to_string(d), dcep_wire::CertificateRole::kDevice,
                            keys.back(), operator_key, 1000 + static_cast<std::uint64_t>(d)),
                      operator_cert});
  }
  std::vector<Signed> transfers;
  for (int i = 0; i < count; ++i) {
    const std::size_t d = static_cast<std::size_t>(i % devices);
    dcep_wire::OfflineTransferBody body{chains[d].device.body.subject_id,
                                        static_cast<std::uint32_t>(i / devices + 1),
                                        "merchant-till-1",
                                        Bytes(16, static_cast<std::uint8_t>(i)),
                                        100 + i % 900,
                                        156,
                                        kNow,
                                        chains[d].device.body.serial};
    transfers.push_back({Must(dcep_wire::ParseOfflineTransfer(
                                  Must(dcep_wire::SignOfflineTransfer(body, keys[d]), "sign")),
                              "parse transfer"),
                         d});
  }

  const double raw = RawOpenSslRate(scheme, transfers, keys);

  const crypto::PublicKey root = root_key.public_key();
  std::size_t full_n = std::min<std::size_t>(transfers.size(), 3000);
  auto start = Clock::now();
  for (std::size_t i = 0; i < full_n; ++i) {
    const Signed& s = transfers[i];
    if (!dcep_wire::VerifyOfflineTransferFromRoot(s.transfer, chains[s.device], root, kNow).ok()) std::exit(1);
  }
  const double full = Rate(full_n, Clock::now() - start);

  dcep_wire::TransferVerifier verifier(root);
  start = Clock::now();
  for (const Signed& s : transfers) {
    if (!verifier.Verify(s.transfer, chains[s.device], kNow).ok()) std::exit(1);
  }
  const double cached = Rate(transfers.size(), Clock::now() - start);

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
  std::printf("offline transfer verification, one thread, %d transfers from %d payer devices\n",
              transfers, devices);
  for (auto scheme : {crypto::SignatureScheme::kSm2Sm3, crypto::SignatureScheme::kEcdsaP256Sha256,
                      crypto::SignatureScheme::kEd25519}) {
    bench::RunScheme(scheme, devices, transfers);
  }
  return 0;
}
