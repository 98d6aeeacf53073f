#include "crypto/mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "crypto/internal/block_cipher_internal.h"
#include "crypto/internal/mac_internal.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace internal {

std::size_t PaddedSize(std::size_t data_bytes, MacPadding padding, std::size_t block_bytes) {
  if (padding == MacPadding::kMethod2) return (data_bytes / block_bytes + 1) * block_bytes;
  if (data_bytes == 0) return block_bytes;
  return (data_bytes + block_bytes - 1) / block_bytes * block_bytes;
}

std::size_t PadInto(ByteView data, MacPadding padding, std::size_t block_bytes,
                    std::span<std::uint8_t> out) {
  const std::size_t padded = PaddedSize(data.size(), padding, block_bytes);
  if (!data.empty()) std::memcpy(out.data(), data.data(), data.size());
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(data.size()),
            out.begin() + static_cast<std::ptrdiff_t>(padded), std::uint8_t{0});
  if (padding == MacPadding::kMethod2) out[data.size()] = 0x80;
  return padded;
}

Status CbcMacInto(CipherId cbc_cipher, std::size_t block_bytes, ByteView key, ByteView padded,
                  std::span<std::uint8_t> out) {
  // Chunks through a small stack buffer so long inputs allocate nothing; each chunk continues the
  // chain by taking the previous chunk's last ciphertext block as its IV.
  constexpr std::size_t kChunkBytes = 512;
  WipedArray<kChunkBytes> scratch;
  WipedArray<kBlockBytesMax> chain;  // H0 = zero ICV
  for (std::size_t offset = 0; offset < padded.size(); offset += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, padded.size() - offset);
    TS_RETURN_IF_ERROR(RunCipher(cbc_cipher, true, key, chain.view(block_bytes),
                                 padded.subspan(offset, n), scratch.span(n)));
    std::memcpy(chain.data(), scratch.data() + n - block_bytes, block_bytes);
  }
  std::memcpy(out.data(), chain.data(), block_bytes);
  return Status::Ok();
}

Status RetailMacInto(ByteView key, ByteView padded, std::span<std::uint8_t> out) {
  // Single-DES CBC under K over D1..Dq-1 gives Hq-1. The last step, DES(K)[DES^-1(K')[DES(K)[
  // Hq-1 XOR Dq]]], is one EDE3 encryption under K, K', K of Dq chained on Hq-1.
  WipedArray<kTdes3KeyBytes> key_kkk;
  WipedArray<kTdes3KeyBytes> key_kk2k;
  for (std::size_t i = 0; i < 3; ++i) std::memcpy(key_kkk.data() + 8 * i, key.data(), 8);
  std::memcpy(key_kk2k.data(), key.data(), 16);
  std::memcpy(key_kk2k.data() + 16, key.data(), 8);

  WipedArray<kDesBlockBytes> chain;
  const std::size_t head = padded.size() - kDesBlockBytes;
  if (head > 0) {
    TS_RETURN_IF_ERROR(CbcMacInto(CipherId::kDesEde3Cbc, kDesBlockBytes, key_kkk.view(),
                                  padded.first(head), chain.span()));
  }
  return RunCipher(CipherId::kDesEde3Cbc, true, key_kk2k.view(), chain.view(),
                   padded.subspan(head, kDesBlockBytes), out.first(kDesBlockBytes));
}

}  // namespace internal

namespace {

Status CheckMacData(ByteView data) {
  if (data.size() > kMacDataBytesMax) {
    return InvalidArgument("MAC data of " + std::to_string(data.size()) + " bytes exceeds the " +
                           std::to_string(kMacDataBytesMax) + "-byte limit");
  }
  return Status::Ok();
}

}  // namespace

Bytes PadIso9797(ByteView data, MacPadding padding, std::size_t block_bytes) {
  Bytes out(internal::PaddedSize(data.size(), padding, block_bytes));
  internal::PadInto(data, padding, block_bytes, out);
  return out;
}

Result<Bytes> Iso9797Alg1Mac(BlockCipher cipher, const SecretBytes& key, ByteView data,
                             MacPadding padding) {
  TS_ASSIGN_OR_RETURN(internal::CipherId id,
                      internal::SelectCipher(cipher, CipherMode::kCbc, key.size()));
  TS_RETURN_IF_ERROR(CheckMacData(data));
  const std::size_t block = BlockBytes(cipher);
  Bytes padded = PadIso9797(data, padding, block);
  internal::WipedArray<32> expanded;
  const std::size_t key_bytes =
      internal::ExpandKey(cipher, key.reveal(), std::span<std::uint8_t, 32>(expanded.data(), 32));
  Bytes mac(block);
  Status status = internal::CbcMacInto(id, block, expanded.view(key_bytes), padded, mac);
  OPENSSL_cleanse(padded.data(), padded.size());
  TS_RETURN_IF_ERROR(status);
  return mac;
}

Result<Bytes> Iso9797Alg3Mac(const SecretBytes& key, ByteView data, MacPadding padding) {
  if (key.size() != kRetailMacKeyBytes) {
    return InvalidArgument("MAC algorithm 3 key must be 16 bytes (K || K'); got " +
                           std::to_string(key.size()));
  }
  TS_RETURN_IF_ERROR(CheckMacData(data));
  Bytes padded = PadIso9797(data, padding, kDesBlockBytes);
  Bytes mac(kDesBlockBytes);
  Status status = internal::RetailMacInto(key.reveal(), padded, mac);
  OPENSSL_cleanse(padded.data(), padded.size());
  TS_RETURN_IF_ERROR(status);
  return mac;
}

Result<Bytes> Cmac(BlockCipher cipher, const SecretBytes& key, ByteView data) {
  internal::CmacId id = internal::CmacId::kAes128;
  switch (cipher) {
    case BlockCipher::kDes:
      return InvalidArgument("CMAC over single DES is not supported; use TDES or AES");
    case BlockCipher::kTdes:
      id = internal::CmacId::kTdes;
      break;
    case BlockCipher::kAes:
      id = key.size() == 16   ? internal::CmacId::kAes128
           : key.size() == 24 ? internal::CmacId::kAes192
                              : internal::CmacId::kAes256;
      break;
    case BlockCipher::kSm4:
      id = internal::CmacId::kSm4;
      break;
  }
  TS_RETURN_IF_ERROR(CheckKeyLength(cipher, key.size()));
  TS_RETURN_IF_ERROR(CheckMacData(data));
  internal::WipedArray<32> expanded;
  const std::size_t key_bytes =
      internal::ExpandKey(cipher, key.reveal(), std::span<std::uint8_t, 32>(expanded.data(), 32));
  Bytes mac(BlockBytes(cipher));
  TS_RETURN_IF_ERROR(internal::RunCmac(id, expanded.view(key_bytes), data, mac));
  return mac;
}

Result<Bytes> HmacSha256(const SecretBytes& key, ByteView data) {
  if (key.empty() || key.size() > kHmacKeyBytesMax) {
    return InvalidArgument("HMAC key must be 1-" + std::to_string(kHmacKeyBytesMax) +
                           " bytes; got " + std::to_string(key.size()));
  }
  TS_RETURN_IF_ERROR(CheckMacData(data));
  const EVP_MAC* hmac = internal::MacAlgorithm("HMAC");
  if (hmac == nullptr) return internal::OpenSslError("HMAC is unavailable");
  internal::EvpMacCtxPtr ctx(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(hmac)));
  if (!ctx) return internal::OpenSslError("HMAC context allocation failed");
  char digest_name[] = "SHA2-256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  Bytes mac(kHmacSha256Bytes);
  std::size_t written = 0;
  if (EVP_MAC_init(ctx.get(), key.reveal().data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac.data(), &written, mac.size()) != 1 ||
      written != kHmacSha256Bytes) {
    return internal::OpenSslError("HMAC-SHA-256 failed");
  }
  return mac;
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tapstack::crypto
