// Key check values: a short fingerprint that shows two parties hold the same key without
// revealing it.
//
// Convention used for every cipher: the KCV is the leftmost bytes of the ECB encryption of one
// all-zero block under the key (8 zero bytes for DES/TDES, 16 for AES and SM4). For DES/TDES this
// is the classic payment-HSM value, usually shown as 3 bytes (6 hex digits). For AES, ANSI
// X9.24-1:2017 instead defines a CMAC-based KCV that some HSMs use; tapstack uses the zero-block
// encryption so one rule covers all ciphers. Agree the rule with a partner before comparing AES
// KCVs.
#pragma once

#include <cstddef>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/block_cipher.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto {

inline constexpr std::size_t kKcvLegacyBytes = 3;

// The leftmost `length_bytes` (1 up to the cipher's block size) of the encrypted zero block.
// Errors (kInvalidArgument): wrong key length for `cipher`, length outside 1..block size.
Result<Bytes> KeyCheckValue(BlockCipher cipher, const SecretBytes& key,
                            std::size_t length_bytes = kKcvLegacyBytes);

}  // namespace tapstack::crypto
