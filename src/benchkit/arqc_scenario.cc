#include "benchkit/arqc_scenario.h"

#include <algorithm>

#include "benchkit/runner.h"
#include "crypto/emv_cryptogram.h"

namespace tapstack::benchkit {

const std::array<std::uint8_t, kArqcInputBytes> kArqcCdolData = {
    0x00, 0x00, 0x00, 0x00, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x56,
    0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x56, 0x26, 0x01, 0x15, 0x00, 0xAB, 0xCD, 0xEF,
    0x12, 0x18, 0x00, 0x00, 0x1C, 0xA0, 0x00, 0x03, 0x22, 0x00, 0x00, 0x00,
};
const std::array<std::uint8_t, 16> kArqcSessionKey = {0x43, 0x6B, 0x94, 0x2A, 0xD6, 0x37, 0xE0, 0x85,
                                                      0x64, 0xB5, 0x32, 0xB0, 0xEC, 0x97, 0xCB, 0x26};

Result<const char*> RawEcbCipherName(crypto::BlockCipher cipher) {
  switch (cipher) {
    case crypto::BlockCipher::kTdes: return "DES-EDE-ECB";
    case crypto::BlockCipher::kAes: return "AES-128-ECB";
    case crypto::BlockCipher::kSm4: return "SM4-ECB";
    case crypto::BlockCipher::kDes: break;
  }
  return InvalidArgument("cipher: expected TDES, AES or SM4");
}

Result<std::unique_ptr<RawCipherPass>> RawCipherPass::Create(const char* evp_name) {
  std::unique_ptr<RawCipherPass> pass(new RawCipherPass());
  pass->cipher_ = EVP_CIPHER_fetch(nullptr, evp_name, nullptr);
  pass->ctx_ = EVP_CIPHER_CTX_new();
  if (pass->cipher_ == nullptr || pass->ctx_ == nullptr ||
      EVP_EncryptInit_ex2(pass->ctx_, pass->cipher_, kArqcSessionKey.data(), nullptr, nullptr) != 1) {
    return CryptoFailure(std::string("OpenSSL cannot set up ") + evp_name);
  }
  EVP_CIPHER_CTX_set_padding(pass->ctx_, 0);
  std::copy(kArqcCdolData.begin(), kArqcCdolData.end(), pass->in_.begin());
  return pass;
}

RawCipherPass::~RawCipherPass() {
  EVP_CIPHER_CTX_free(ctx_);
  EVP_CIPHER_free(cipher_);
}

Status RawCipherPass::Encrypt(bool rekey) {
  if (rekey && EVP_EncryptInit_ex2(ctx_, nullptr, kArqcSessionKey.data(), nullptr, nullptr) != 1) {
    return CryptoFailure("EVP_EncryptInit_ex2 failed");
  }
  int written = 0;
  if (EVP_EncryptUpdate(ctx_, out_.data(), &written, in_.data(), static_cast<int>(in_.size())) != 1) {
    return CryptoFailure("EVP_EncryptUpdate failed");
  }
  return Status::Ok();
}

std::vector<ScenarioOption> ArqcScenario::options() const {
  return {{"--cipher", "Cryptogram cipher: tdes (ISO 9797-1 alg. 3), aes (CMAC), sm4 (CBC-MAC)", "tdes"}};
}

Status ArqcScenario::Setup(const ScenarioConfig& config) {
  const std::string& name = config.options.at("--cipher");
  if (name == "tdes") {
    cipher_ = crypto::BlockCipher::kTdes;
  } else if (name == "aes") {
    cipher_ = crypto::BlockCipher::kAes;
  } else if (name == "sm4") {
    cipher_ = crypto::BlockCipher::kSm4;
  } else {
    return InvalidArgument("--cipher: expected tdes, aes or sm4, got \"" + name + "\"");
  }
  TS_ASSIGN_OR_RETURN(raw_name_, RawEcbCipherName(cipher_));
  key_ = crypto::SecretBytes(ByteView(kArqcSessionKey));
  return RunOnce(0).WithContext("first cryptogram");
}

Status ArqcScenario::RunOnce(int /*thread*/) {
  TS_ASSIGN_OR_RETURN(crypto::ApplicationCryptogram ac,
                      crypto::GenerateApplicationCryptogram(cipher_, key_, kArqcCdolData));
  return crypto::VerifyApplicationCryptogram(cipher_, key_, kArqcCdolData, ac);
}

PeerFigure ArqcScenario::MeasurePeer(const RunLimits& limits) {
  PeerFigure peer;
  peer.name = std::string("raw OpenSSL ") + raw_name_ + ", new key per pass, 2 passes per op";
  std::vector<std::unique_ptr<RawCipherPass>> passes;
  for (int t = 0; t < limits.threads; ++t) {
    Result<std::unique_ptr<RawCipherPass>> pass = RawCipherPass::Create(raw_name_);
    if (!pass.ok()) {
      peer.note = pass.status().ToString();
      return peer;
    }
    passes.push_back(std::move(*pass));
  }
  // One op of ours is two MACs (generate, then verify recomputes it): the peer's op is two keyed
  // passes over the same kArqcPaddedBytes, through the same Runner and bounds.
  Result<Measurement> m = Run(
      limits,
      [&passes](int thread, OperationSink& sink) {
        RawCipherPass& pass = *passes[static_cast<std::size_t>(thread)];
        while (sink.Claim()) {
          Status s = pass.Encrypt(true);
          if (s.ok()) s = pass.Encrypt(true);
          sink.Complete(0, s);
        }
      },
      nullptr);
  if (!m.ok() || m->errors > 0) {
    peer.note = m.ok() ? m->first_error : m.status().ToString();
    return peer;
  }
  peer.available = true;
  peer.ops_per_second = m->ops_per_second;
  peer.note = std::to_string(m->ops) + " ops on " + std::to_string(limits.threads) + " thread(s) in " +
              std::to_string(m->wall_seconds) + " s, " + std::to_string(kArqcPaddedBytes) +
              " bytes per pass";
  return peer;
}

}  // namespace tapstack::benchkit
