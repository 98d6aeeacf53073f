// Limits of the TSP, each a named constant with its unit in the name (TigerBeetle style).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tapstack::tsp {

// Token BIN ranges are configured as 8-digit BINs (ISO/IEC 7812-1:2017 moved to 8-digit IINs).
inline constexpr std::size_t kTokenBinDigits = 8;
// Token numbers are 16-19 digits: at least 16 so that 7+ digits stay random after the BIN and the
// Luhn digit (the TF allows 13-19, emv-and-tokenization.md §2).
inline constexpr std::size_t kTokenDigitsMin = 16;
inline constexpr std::size_t kTokenDigitsMax = 19;
// Configured token BIN ranges and issuer BIN ranges checked against them.
inline constexpr std::size_t kTokenBinRangesMax = 64;
inline constexpr std::size_t kIssuerBinRangesMax = 100'000;
// Draws before token generation gives up (a range this full needs a new range, not more draws).
inline constexpr int kTokenNumberAttemptsMax = 32;

// Token validity from issue, in months; the token's own expiry, separate from the PAN's.
inline constexpr int kTokenValidityMonthsDefault = 36;
inline constexpr int kTokenValidityMonthsMax = 120;

// Token Requestor ID: 11 digits (EMV tag 9F19, n11).
inline constexpr std::size_t kTokenRequestorIdDigits = 11;
// Device id: printable ASCII, as sent by the wallet (SE id or device serial).
inline constexpr std::size_t kDeviceIdBytesMax = 64;
// Lifecycle reason text and de-tokenisation purpose, printable ASCII.
inline constexpr std::size_t kReasonBytesMax = 128;

// Records re-encrypted per ReencryptBatch call: bounds one transaction's length and lock time.
inline constexpr std::size_t kReencryptBatchRecordsMax = 10'000;
// Data-key versions the vault keeps (a cryptoperiod of a month would last 80+ years).
inline constexpr std::int64_t kDataKeyVersionsMax = 1000;

// Audit entry fields.
inline constexpr std::size_t kAuditActorBytesMax = 128;
inline constexpr std::size_t kAuditActionBytesMax = 64;
inline constexpr std::size_t kAuditSubjectBytesMax = 64;
inline constexpr std::size_t kAuditDetailBytesMax = 1024;
// A run of this many digits in an audit field may be a PAN or token number: refused.
inline constexpr std::size_t kAuditDigitRunMax = 11;
// Rows read per query while verifying the chain (bounds memory, not the chain length).
inline constexpr std::size_t kAuditVerifyPageRowsMax = 1000;

}  // namespace tapstack::tsp
