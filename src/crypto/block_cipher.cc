#include "crypto/block_cipher.h"

#include <cstring>
#include <string>

#include "crypto/internal/block_cipher_internal.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace internal {

Result<CipherId> SelectCipher(BlockCipher cipher, CipherMode mode, std::size_t key_bytes) {
  TS_RETURN_IF_ERROR(CheckKeyLength(cipher, key_bytes));
  const bool ecb = mode == CipherMode::kEcb;
  switch (cipher) {
    case BlockCipher::kDes:
    case BlockCipher::kTdes:
      return ecb ? CipherId::kDesEde3Ecb : CipherId::kDesEde3Cbc;
    case BlockCipher::kAes:
      if (key_bytes == 16) return ecb ? CipherId::kAes128Ecb : CipherId::kAes128Cbc;
      if (key_bytes == 24) return ecb ? CipherId::kAes192Ecb : CipherId::kAes192Cbc;
      return ecb ? CipherId::kAes256Ecb : CipherId::kAes256Cbc;
    case BlockCipher::kSm4:
      return ecb ? CipherId::kSm4Ecb : CipherId::kSm4Cbc;
  }
  return InvalidArgument("unknown block cipher");
}

std::size_t ExpandKey(BlockCipher cipher, ByteView key, std::span<std::uint8_t, 32> out) {
  if (cipher == BlockCipher::kDes) {
    // K,K,K: DES-EDE3 with three equal keys is single DES.
    for (std::size_t i = 0; i < 3; ++i) std::memcpy(out.data() + 8 * i, key.data(), 8);
    return kTdes3KeyBytes;
  }
  if (cipher == BlockCipher::kTdes && key.size() == kTdes2KeyBytes) {
    std::memcpy(out.data(), key.data(), 16);
    std::memcpy(out.data() + 16, key.data(), 8);  // K3 = K1
    return kTdes3KeyBytes;
  }
  std::memcpy(out.data(), key.data(), key.size());
  return key.size();
}

}  // namespace internal

namespace {

Status CheckData(BlockCipher cipher, CipherMode mode, ByteView data, ByteView iv) {
  const std::size_t block = BlockBytes(cipher);
  if (data.size() > kCipherDataBytesMax) {
    return InvalidArgument("data of " + std::to_string(data.size()) + " bytes exceeds the " +
                           std::to_string(kCipherDataBytesMax) + "-byte limit");
  }
  if (data.size() % block != 0) {
    return InvalidArgument(std::string(BlockCipherName(cipher)) + " data of " +
                           std::to_string(data.size()) + " bytes is not a multiple of the " +
                           std::to_string(block) + "-byte block; pad it first");
  }
  if (mode == CipherMode::kEcb && !iv.empty()) {
    return InvalidArgument("ECB takes no IV");
  }
  if (mode == CipherMode::kCbc && iv.size() != block) {
    return InvalidArgument("CBC IV must be " + std::to_string(block) + " bytes, got " +
                           std::to_string(iv.size()));
  }
  return Status::Ok();
}

Status Run(bool encrypt, BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
           ByteView iv, std::span<std::uint8_t> out) {
  TS_ASSIGN_OR_RETURN(internal::CipherId id, internal::SelectCipher(cipher, mode, key.size()));
  TS_RETURN_IF_ERROR(CheckData(cipher, mode, data, iv));
  if (out.size() != data.size()) {
    return InvalidArgument("output buffer must be " + std::to_string(data.size()) + " bytes");
  }
  internal::WipedArray<32> expanded;
  const std::size_t key_bytes =
      internal::ExpandKey(cipher, key.reveal(), std::span<std::uint8_t, 32>(expanded.data(), 32));
  return internal::RunCipher(id, encrypt, expanded.view(key_bytes), iv, data, out);
}

}  // namespace

std::string_view BlockCipherName(BlockCipher cipher) {
  switch (cipher) {
    case BlockCipher::kDes:
      return "DES";
    case BlockCipher::kTdes:
      return "TDES";
    case BlockCipher::kAes:
      return "AES";
    case BlockCipher::kSm4:
      return "SM4";
  }
  return "unknown";
}

std::size_t BlockBytes(BlockCipher cipher) {
  switch (cipher) {
    case BlockCipher::kDes:
    case BlockCipher::kTdes:
      return kDesBlockBytes;
    case BlockCipher::kAes:
      return kAesBlockBytes;
    case BlockCipher::kSm4:
      return kSm4BlockBytes;
  }
  return kDesBlockBytes;
}

Status CheckKeyLength(BlockCipher cipher, std::size_t key_bytes) {
  // Hot path (every cryptogram): build no message unless the length is wrong.
  const char* expected = nullptr;
  switch (cipher) {
    case BlockCipher::kDes:
      if (key_bytes == kDesKeyBytes) return Status::Ok();
      expected = "DES key must be 8 bytes";
      break;
    case BlockCipher::kTdes:
      if (key_bytes == kTdes2KeyBytes || key_bytes == kTdes3KeyBytes) return Status::Ok();
      expected = "TDES key must be 16 or 24 bytes";
      break;
    case BlockCipher::kAes:
      if (key_bytes == 16 || key_bytes == 24 || key_bytes == 32) return Status::Ok();
      expected = "AES key must be 16, 24 or 32 bytes";
      break;
    case BlockCipher::kSm4:
      if (key_bytes == kSm4KeyBytes) return Status::Ok();
      expected = "SM4 key must be 16 bytes";
      break;
  }
  if (expected == nullptr) return InvalidArgument("unknown block cipher");
  return InvalidArgument(std::string(expected) + "; got " + std::to_string(key_bytes) + " bytes");
}

Status EncryptInto(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                   ByteView iv, std::span<std::uint8_t> out) {
  return Run(true, cipher, mode, key, data, iv, out);
}

Status DecryptInto(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                   ByteView iv, std::span<std::uint8_t> out) {
  return Run(false, cipher, mode, key, data, iv, out);
}

Result<Bytes> Encrypt(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                      ByteView iv) {
  Bytes out(data.size());
  TS_RETURN_IF_ERROR(EncryptInto(cipher, mode, key, data, iv, out));
  return out;
}

Result<Bytes> Decrypt(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                      ByteView iv) {
  Bytes out(data.size());
  TS_RETURN_IF_ERROR(DecryptInto(cipher, mode, key, data, iv, out));
  return out;
}

}  // namespace tapstack::crypto
