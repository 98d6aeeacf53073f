// `arqc`: ARQC generation + verification (EMV Book 2 8.1.2) over 40 bytes of CDOL1 data, as an
// issuer host checks one and a card makes one. Peer: the raw OpenSSL EVP cipher over the same
// number of blocks, keyed once per pass (every transaction has its own session key, so a fair
// raw rate re-keys too). The constants and the raw pass are shared with bench/arqc_bench.cc.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchkit/scenario.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/secret_bytes.h"

namespace tapstack::benchkit {

inline constexpr std::size_t kArqcInputBytes = 40;   // CDOL1 data
inline constexpr std::size_t kArqcPaddedBytes = 48;  // ISO 9797-1 method 2: 6 DES or 3 AES/SM4 blocks

// 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36 CVR(6) = 40 bytes.
extern const std::array<std::uint8_t, kArqcInputBytes> kArqcCdolData;
// A 16-byte session key (TDES 2-key, AES-128 or SM4).
extern const std::array<std::uint8_t, 16> kArqcSessionKey;

// The OpenSSL EVP cipher ECB mode matching `cipher`'s cryptogram: "DES-EDE-ECB", "AES-128-ECB",
// "SM4-ECB". Errors (kInvalidArgument): kDes.
Result<const char*> RawEcbCipherName(crypto::BlockCipher cipher);

// Raw EVP_EncryptUpdate over kArqcPaddedBytes of the CDOL data with kArqcSessionKey: what the
// cryptogram's MAC costs with nothing but OpenSSL. Not thread-safe; one per thread.
class RawCipherPass {
 public:
  // `evp_name` as EVP_CIPHER_fetch takes it. Errors (kCryptoFailure): OpenSSL refused it.
  static Result<std::unique_ptr<RawCipherPass>> Create(const char* evp_name);
  ~RawCipherPass();
  RawCipherPass(const RawCipherPass&) = delete;
  RawCipherPass& operator=(const RawCipherPass&) = delete;

  // One pass over the blocks; with `rekey`, the key schedule is set up again first.
  // Errors (kCryptoFailure): OpenSSL failed.
  Status Encrypt(bool rekey);
  const std::array<std::uint8_t, kArqcPaddedBytes>& output() const { return out_; }

 private:
  RawCipherPass() = default;
  EVP_CIPHER* cipher_ = nullptr;
  EVP_CIPHER_CTX* ctx_ = nullptr;
  std::array<std::uint8_t, kArqcPaddedBytes> in_{};
  std::array<std::uint8_t, kArqcPaddedBytes> out_{};
};

class ArqcScenario : public Scenario {
 public:
  std::string_view name() const override { return "arqc"; }
  std::string_view description() const override {
    return "ARQC generate + verify over 40 bytes of CDOL1 data (one op = both)";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  bool has_peer() const override { return true; }
  PeerFigure MeasurePeer(const RunLimits& limits) override;

 private:
  crypto::BlockCipher cipher_ = crypto::BlockCipher::kTdes;
  const char* raw_name_ = nullptr;
  crypto::SecretBytes key_;
};

}  // namespace tapstack::benchkit
