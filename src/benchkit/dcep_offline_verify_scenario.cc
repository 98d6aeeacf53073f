#include "benchkit/dcep_offline_verify_scenario.h"

#include <openssl/x509.h>

#include "benchkit/runner.h"
#include "dcep_wire/certificate.h"

namespace tapstack::benchkit {

namespace {

Result<dcep_wire::Certificate> Issue(const std::string& issuer, const std::string& subject,
                                     dcep_wire::CertificateRole role, const crypto::PrivateKey& subject_key,
                                     const crypto::PrivateKey& issuer_key, std::uint64_t serial) {
  dcep_wire::CertificateBody body;
  body.serial = serial;
  body.issuer_id = issuer;
  body.subject_id = subject;
  body.role = role;
  body.scheme = subject_key.scheme();
  TS_ASSIGN_OR_RETURN(body.public_key, subject_key.public_key().ToRaw());
  body.not_after_unix_s = kOfflineNotAfterUnixS;
  if (role == dcep_wire::CertificateRole::kDevice) {
    body.tier = 4;
    body.offline_balance_max_fen = 100'000;
    body.offline_payment_max_fen = 50'000;
    body.offline_payments_before_sync_max = 20;
    body.offline_value_before_sync_max_fen = 200'000;
  }
  TS_ASSIGN_OR_RETURN(Bytes encoded, dcep_wire::IssueCertificate(body, issuer_key));
  return dcep_wire::ParseCertificate(encoded);
}

Result<crypto::SignatureScheme> SchemeByOption(const std::string& name) {
  if (name == "sm2") return crypto::SignatureScheme::kSm2Sm3;
  if (name == "p256") return crypto::SignatureScheme::kEcdsaP256Sha256;
  if (name == "ed25519") return crypto::SignatureScheme::kEd25519;
  return InvalidArgument("--scheme: expected sm2, p256 or ed25519, got \"" + name + "\"");
}

Result<int> PositiveInt(const ScenarioConfig& config, const std::string& option) {
  const std::string& text = config.options.at(option);
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  return InvalidArgument(option + ": expected a positive integer, got \"" + text + "\"");
}

}  // namespace

Result<OfflineTransferSet> MakeOfflineTransfers(crypto::SignatureScheme scheme, int devices, int transfers) {
  if (devices < 1 || transfers < 1) return InvalidArgument("devices and transfers: expected at least 1");
  OfflineTransferSet set;
  set.scheme = scheme;
  TS_ASSIGN_OR_RETURN(crypto::PrivateKey root_key, crypto::PrivateKey::Generate(scheme));
  TS_ASSIGN_OR_RETURN(crypto::PrivateKey operator_key, crypto::PrivateKey::Generate(scheme));
  set.root = root_key.public_key();
  TS_ASSIGN_OR_RETURN(dcep_wire::Certificate operator_cert,
                      Issue("pboc", "icbc", dcep_wire::CertificateRole::kOperator, operator_key, root_key, 100));
  for (int d = 0; d < devices; ++d) {
    TS_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(scheme));
    TS_ASSIGN_OR_RETURN(dcep_wire::Certificate device,
                        Issue("icbc", "watch-" + std::to_string(d), dcep_wire::CertificateRole::kDevice, key,
                              operator_key, 1000 + static_cast<std::uint64_t>(d)));
    set.chains.push_back({std::move(device), operator_cert});
    set.device_keys.push_back(std::move(key));
  }
  for (int i = 0; i < transfers; ++i) {
    const std::size_t d = static_cast<std::size_t>(i % devices);
    const dcep_wire::OfflineTransferBody body{set.chains[d].device.body.subject_id,
                                              static_cast<std::uint32_t>(i / devices + 1),
                                              "merchant-till-1",
                                              Bytes(16, static_cast<std::uint8_t>(i)),
                                              100 + i % 900,
                                              156,
                                              kOfflineNowUnixS,
                                              set.chains[d].device.body.serial};
    TS_ASSIGN_OR_RETURN(Bytes signed_transfer, dcep_wire::SignOfflineTransfer(body, set.device_keys[d]));
    TS_ASSIGN_OR_RETURN(dcep_wire::OfflineTransfer transfer, dcep_wire::ParseOfflineTransfer(signed_transfer));
    set.transfers.push_back({std::move(transfer), d});
  }
  return set;
}

Result<std::unique_ptr<RawSignatureVerifier>> RawSignatureVerifier::Create(const OfflineTransferSet& set) {
  std::unique_ptr<RawSignatureVerifier> v(new RawSignatureVerifier());
  v->scheme_ = set.scheme;
  for (const crypto::PrivateKey& k : set.device_keys) {
    TS_ASSIGN_OR_RETURN(Bytes spki, k.public_key().ToSpkiDer());
    const unsigned char* p = spki.data();
    EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
    if (pkey == nullptr) return CryptoFailure("d2i_PUBKEY refused a device key");
    v->keys_.push_back(pkey);
  }
  return v;
}

RawSignatureVerifier::~RawSignatureVerifier() {
  for (EVP_PKEY* k : keys_) EVP_PKEY_free(k);
}

Status RawSignatureVerifier::Verify(const SignedOfflineTransfer& s) const {
  Bytes der;
  if (scheme_ == crypto::SignatureScheme::kEd25519) {
    der = s.transfer.signature;
  } else {
    TS_ASSIGN_OR_RETURN(der, crypto::SignatureRawToDer(s.transfer.signature));
  }
  EVP_PKEY* key = keys_.at(s.device);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = scheme_ == crypto::SignatureScheme::kEd25519  ? nullptr
                     : scheme_ == crypto::SignatureScheme::kSm2Sm3 ? EVP_sm3()
                                                                   : EVP_sha256();
  if (scheme_ == crypto::SignatureScheme::kSm2Sm3) {
    // GB/T 32918: the signer's ID enters the digest (the default ID, as crypto/ uses).
    pctx = EVP_PKEY_CTX_new(key, nullptr);
    EVP_PKEY_CTX_set1_id(pctx, crypto::kSm2DefaultId.data(), crypto::kSm2DefaultId.size());
    EVP_MD_CTX_set_pkey_ctx(ctx, pctx);
  }
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, der.data(), der.size(), s.transfer.signed_body.data(),
                                   s.transfer.signed_body.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_CTX_free(pctx);
  return ok ? Status::Ok() : CryptoFailure("raw EVP_DigestVerify: signature does not verify");
}

std::vector<ScenarioOption> DcepOfflineVerifyScenario::options() const {
  return {{"--scheme", "Signature scheme: sm2 (SM2-SM3), p256 (ECDSA-P256-SHA256), ed25519", "p256"},
          {"--devices", "Payer devices (distinct chains)", "200"},
          {"--transfers", "Signed transfers made beforehand, verified in turn", "2000"}};
}

Status DcepOfflineVerifyScenario::Setup(const ScenarioConfig& config) {
  TS_ASSIGN_OR_RETURN(crypto::SignatureScheme scheme, SchemeByOption(config.options.at("--scheme")));
  TS_ASSIGN_OR_RETURN(int devices, PositiveInt(config, "--devices"));
  TS_ASSIGN_OR_RETURN(int transfers, PositiveInt(config, "--transfers"));
  TS_ASSIGN_OR_RETURN(set_, MakeOfflineTransfers(scheme, devices, transfers));
  verifier_ = std::make_unique<dcep_wire::TransferVerifier>(*set_.root);
  next_.assign(static_cast<std::size_t>(config.limits.threads), 0);
  // Workers start at different transfers so that they do not verify the same one at once.
  for (std::size_t t = 0; t < next_.size(); ++t) next_[t] = t * set_.transfers.size() / next_.size();
  return Status::Ok();
}

Status DcepOfflineVerifyScenario::RunOnce(int thread) {
  std::size_t& i = next_[static_cast<std::size_t>(thread)];
  const SignedOfflineTransfer& s = set_.transfers[i];
  i = (i + 1) % set_.transfers.size();
  return verifier_->Verify(s.transfer, set_.chains[s.device], kOfflineNowUnixS);
}

PeerFigure DcepOfflineVerifyScenario::MeasurePeer(const RunLimits& limits) {
  PeerFigure peer;
  peer.name = "raw OpenSSL EVP_DigestVerify (" + std::string(crypto::SignatureSchemeName(set_.scheme)) + ")";
  Result<std::unique_ptr<RawSignatureVerifier>> raw = RawSignatureVerifier::Create(set_);
  if (!raw.ok()) {
    peer.note = raw.status().ToString();
    return peer;
  }
  const std::size_t n = set_.transfers.size();
  Result<Measurement> m = Run(
      limits,
      [&](int thread, OperationSink& sink) {
        std::size_t i = static_cast<std::size_t>(thread) * n / static_cast<std::size_t>(limits.threads);
        while (sink.Claim()) {
          sink.Complete(0, (*raw)->Verify(set_.transfers[i]));
          i = (i + 1) % n;
        }
      },
      nullptr);
  if (!m.ok() || m->errors > 0) {
    peer.note = m.ok() ? m->first_error : m.status().ToString();
    return peer;
  }
  peer.available = true;
  peer.ops_per_second = m->ops_per_second;
  peer.note = std::to_string(m->ops) + " signatures on " + std::to_string(limits.threads) +
              " thread(s), keys prepared once, no chain or expiry checks";
  return peer;
}

}  // namespace tapstack::benchkit
