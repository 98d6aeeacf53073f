#include "crypto/kcv.h"

#include <array>
#include <string>

namespace tapstack::crypto {

Result<Bytes> KeyCheckValue(BlockCipher cipher, const SecretBytes& key, std::size_t length_bytes) {
  const std::size_t block = BlockBytes(cipher);
  if (length_bytes == 0 || length_bytes > block) {
    return InvalidArgument("KCV length must be 1-" + std::to_string(block) + " bytes for " +
                           std::string(BlockCipherName(cipher)) + "; got " +
                           std::to_string(length_bytes));
  }
  const std::array<std::uint8_t, kBlockBytesMax> zeros{};
  TS_ASSIGN_OR_RETURN(Bytes encrypted,
                      Encrypt(cipher, CipherMode::kEcb, key, ByteView(zeros.data(), block)));
  encrypted.resize(length_bytes);
  return encrypted;
}

}  // namespace tapstack::crypto
