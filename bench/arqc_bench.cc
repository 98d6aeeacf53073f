// ARQC generation/verification throughput next to the raw OpenSSL block-cipher rate on the same
// machine. All figures are items/s (one item = one cryptogram, or one EVP call over the same
// number of blocks the cryptogram's MAC processes).
//
// The cryptogram input is 40 bytes (CDOL1-like: amounts, country, TVR, currency, date, type, UN,
// AIP, ATC, CVR); with padding method 2 that is 48 bytes = 6 DES blocks or 3 AES/SM4 blocks.
//
// Baselines, each on a context created once and reused:
//   Raw/<cipher>/update      EVP_EncryptUpdate over the same blocks, key schedule done once;
//   Raw/<cipher>/rekey       EVP_EncryptInit_ex2 with the key + EVP_EncryptUpdate per item: the
//                            "equivalent work" to a cryptogram, which re-keys for every call
//                            because every transaction has its own session key;
//   Raw/CMAC-AES-128         EVP_MAC_init with the key + update + final per item: the floor for an
//                            AES cryptogram through OpenSSL's CMAC.
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "benchkit/arqc_scenario.h"
#include "crypto/emv_cryptogram.h"
#include "crypto/secret_bytes.h"

namespace {

using tapstack::ByteView;
using tapstack::benchkit::kArqcCdolData;
using tapstack::benchkit::kArqcInputBytes;
using tapstack::benchkit::kArqcPaddedBytes;
using tapstack::crypto::BlockCipher;
using tapstack::crypto::SecretBytes;

// The data and key `tapstack bench arqc` uses (benchkit/arqc_scenario.h).
const std::array<std::uint8_t, 16>& kKey = tapstack::benchkit::kArqcSessionKey;

void ArqcGenerate(benchmark::State& state, BlockCipher cipher) {
  const SecretBytes key{ByteView(kKey)};
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    auto ac = tapstack::crypto::GenerateApplicationCryptogram(cipher, key, kArqcCdolData);
    if (!ac.ok()) throw std::runtime_error(ac.status().ToString());
    benchmark::DoNotOptimize(ac);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void ArqcVerify(benchmark::State& state, BlockCipher cipher) {
  const SecretBytes key{ByteView(kKey)};
  const auto ac = tapstack::crypto::GenerateApplicationCryptogram(cipher, key, kArqcCdolData);
  if (!ac.ok()) throw std::runtime_error(ac.status().ToString());
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    tapstack::Status status =
        tapstack::crypto::VerifyApplicationCryptogram(cipher, key, kArqcCdolData, *ac);
    if (!status.ok()) throw std::runtime_error(status.ToString());
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Raw EVP_EncryptUpdate over kArqcPaddedBytes; with `rekey`, the key is set again for every
// item (the peer of `tapstack bench arqc`).
void RawCipher(benchmark::State& state, const char* name, bool rekey) {
  auto pass = tapstack::benchkit::RawCipherPass::Create(name);
  if (!pass.ok()) throw std::runtime_error(pass.status().ToString());
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    if (!(*pass)->Encrypt(rekey).ok()) throw std::runtime_error("raw cipher failed");
    benchmark::DoNotOptimize((*pass)->output());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void RawCmacAes128(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char cipher_name[] = "AES-128-CBC";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher_name, 0),
      OSSL_PARAM_construct_end(),
  };
  if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1) {
    throw std::runtime_error("cannot set up CMAC");
  }
  std::array<std::uint8_t, kArqcPaddedBytes> in{};
  std::copy(kArqcCdolData.begin(), kArqcCdolData.end(), in.begin());
  in[kArqcInputBytes] = 0x80;
  std::array<std::uint8_t, 16> out{};
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    std::size_t written = 0;
    EVP_MAC_init(ctx, kKey.data(), kKey.size(), nullptr);
    EVP_MAC_update(ctx, in.data(), in.size());
    EVP_MAC_final(ctx, out.data(), &written, out.size());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}

}  // namespace

BENCHMARK_CAPTURE(ArqcGenerate, TDES, BlockCipher::kTdes);
BENCHMARK_CAPTURE(ArqcGenerate, AES128, BlockCipher::kAes);
BENCHMARK_CAPTURE(ArqcGenerate, SM4, BlockCipher::kSm4);
BENCHMARK_CAPTURE(ArqcVerify, TDES, BlockCipher::kTdes);
BENCHMARK_CAPTURE(ArqcVerify, AES128, BlockCipher::kAes);
BENCHMARK_CAPTURE(ArqcVerify, SM4, BlockCipher::kSm4);
BENCHMARK_CAPTURE(RawCipher, des_ede_update, "DES-EDE-ECB", false);
BENCHMARK_CAPTURE(RawCipher, aes_128_ecb_update, "AES-128-ECB", false);
BENCHMARK_CAPTURE(RawCipher, sm4_ecb_update, "SM4-ECB", false);
BENCHMARK_CAPTURE(RawCipher, des_ede_rekey, "DES-EDE-ECB", true);
BENCHMARK_CAPTURE(RawCipher, aes_128_ecb_rekey, "AES-128-ECB", true);
BENCHMARK_CAPTURE(RawCipher, sm4_ecb_rekey, "SM4-ECB", true);
BENCHMARK(RawCmacAes128);

BENCHMARK_MAIN();
