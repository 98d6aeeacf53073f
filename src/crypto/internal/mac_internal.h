// Internal to src/crypto: allocation-free MAC building blocks shared by mac.cc and the EMV
// cryptogram code.
#pragma once

#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/internal/openssl.h"
#include "crypto/mac.h"

namespace tapstack::crypto::internal {

// Size of `data_bytes` after ISO/IEC 9797-1 padding to `block_bytes`.
std::size_t PaddedSize(std::size_t data_bytes, MacPadding padding, std::size_t block_bytes);

// Writes padded `data` into `out` (at least PaddedSize bytes) and returns the padded length.
std::size_t PadInto(ByteView data, MacPadding padding, std::size_t block_bytes,
                    std::span<std::uint8_t> out);

// CBC-MAC with a zero ICV over already padded, block-aligned `padded`; writes the last block into
// `out` (one block). `key` has OpenSSL's key length for `cbc_cipher` (expanded for DES/TDES).
Status CbcMacInto(CipherId cbc_cipher, std::size_t block_bytes, ByteView key, ByteView padded,
                  std::span<std::uint8_t> out);

// ISO/IEC 9797-1 algorithm 3 over already padded `padded` (multiple of 8, non-empty) with a
// 16-byte K || K'; writes 8 bytes into `out`.
Status RetailMacInto(ByteView key, ByteView padded, std::span<std::uint8_t> out);

}  // namespace tapstack::crypto::internal
