// Limits and fixed widths of the digital-currency wire formats (docs/dcep-offline.md). Every
// parser refuses input above its limit before decoding it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tapstack::dcep_wire {

// Fixed field widths (big-endian integers).
inline constexpr std::size_t kAmountBytes = 8;         // fen
inline constexpr std::size_t kUnixTimeBytes = 8;       // seconds since 1970-01-01T00:00:00Z
inline constexpr std::size_t kCurrencyBytes = 2;       // ISO 4217 numeric, binary (156 = 00 9C)
inline constexpr std::size_t kSerialBytes = 8;         // certificate serial
inline constexpr std::size_t kCounterBytes = 4;        // payer counter
inline constexpr std::size_t kSequenceBytes = 4;       // load sequence, log sequence, list version
inline constexpr std::size_t kNonceBytes = 16;         // payee nonce
inline constexpr std::size_t kPaymentsCountBytes = 2;  // offline payments before sync max
inline constexpr std::size_t kAgeSecondsBytes = 4;     // offline unsynced max age

// Device ids as device::DeviceStore::CheckDeviceId: 1-64 of a-z 0-9 - _.
inline constexpr std::size_t kDeviceIdBytesMax = 64;
// Issuer and subject ids of certificates: printable ASCII.
inline constexpr std::size_t kEntityIdBytesMax = 64;

// e-CNY is CNY on the wire (ISO 4217 numeric 156) and the only currency the applet holds.
inline constexpr std::uint16_t kCnyCurrencyNumeric = 156;
inline constexpr std::uint8_t kFormatVersion = 0x01;

// Encoded sizes. A certificate with 64-character ids and a 65-byte key is about 330 bytes.
inline constexpr std::size_t kCertificateBytesMax = 512;
inline constexpr std::size_t kCertificateChainBytesMax = 2 * kCertificateBytesMax + 8;
inline constexpr std::size_t kPaymentRequestBytesMax = 2 * kCertificateBytesMax + 96;
inline constexpr std::size_t kOfflineTransferBytesMax = 384;
inline constexpr std::size_t kLoadOrderBytesMax = 256;
// Revocation lists pushed by a sync acknowledgement: at most this many devices, each an
// (issuer id, device id) pair.
inline constexpr std::size_t kRevokedDevicesMax = 256;
inline constexpr std::size_t kSyncAckBytesMax =
    160 + kRevokedDevicesMax * (kEntityIdBytesMax + 2 + kDeviceIdBytesMax + 2);
inline constexpr std::size_t kLogRecordBytesMax =
    16 + kOfflineTransferBytesMax + kCertificateChainBytesMax;

}  // namespace tapstack::dcep_wire
