// Block ciphers in ECB and CBC mode without padding: single DES, TDES (two- and three-key), AES
// (128/192/256) and SM4 (GB/T 32907-2016), all through OpenSSL 3 EVP.
//
// The caller pads: data must be a whole number of blocks (empty data is allowed and gives empty
// output). The key length selects the variant: DES 8 bytes; TDES 16 (K1 K2, K3 = K1) or 24; AES
// 16, 24 or 32; SM4 16.
//
// Single DES is computed as three-key TDES with K1 = K2 = K3 (EDE with equal keys is one DES
// encryption), so the OpenSSL legacy provider is never loaded; the price is three DES operations
// per single-DES block. DES parity bits are ignored (keys are used as given) and weak keys are not
// rejected.
//
// Thread-safe. Algorithms are fetched once per process and contexts are reused per thread (see
// crypto/internal/openssl.h for what that means for key residue).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

enum class BlockCipher { kDes, kTdes, kAes, kSm4 };
enum class CipherMode { kEcb, kCbc };

inline constexpr std::size_t kDesBlockBytes = 8;  // DES and TDES
inline constexpr std::size_t kAesBlockBytes = 16;
inline constexpr std::size_t kSm4BlockBytes = 16;
inline constexpr std::size_t kBlockBytesMax = 16;
inline constexpr std::size_t kDesKeyBytes = 8;
inline constexpr std::size_t kTdes2KeyBytes = 16;
inline constexpr std::size_t kTdes3KeyBytes = 24;
inline constexpr std::size_t kSm4KeyBytes = 16;
// Largest input of one cipher call.
inline constexpr std::size_t kCipherDataBytesMax = std::size_t{16} << 20;  // 16 MiB

// "DES", "TDES", "AES", "SM4".
std::string_view BlockCipherName(BlockCipher cipher);
std::size_t BlockBytes(BlockCipher cipher);

// OK when `key_bytes` is a valid key length for `cipher`; otherwise kInvalidArgument naming the
// cipher and the accepted lengths.
Status CheckKeyLength(BlockCipher cipher, std::size_t key_bytes);

// Encrypts / decrypts `data`. `iv` must be empty for ECB and exactly one block for CBC.
// Errors (kInvalidArgument): wrong key length, data not a multiple of the block size or larger
// than kCipherDataBytesMax, wrong IV length. kCryptoFailure if OpenSSL fails.
Result<Bytes> Encrypt(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                      ByteView iv = {});
Result<Bytes> Decrypt(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                      ByteView iv = {});

// As Encrypt/Decrypt but writes into `out` (exactly data.size() bytes; may be the same memory as
// `data`) and allocates nothing.
Status EncryptInto(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                   ByteView iv, std::span<std::uint8_t> out);
Status DecryptInto(BlockCipher cipher, CipherMode mode, const SecretBytes& key, ByteView data,
                   ByteView iv, std::span<std::uint8_t> out);

}  // namespace tapstack::crypto
