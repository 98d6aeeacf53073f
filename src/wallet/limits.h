// The wallet service's limits, each a named constant with its unit in the name.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tapstack::wallet {

// Bank cards one account may hold (product rule: "at most 8 bank cards per account"). Cards
// waiting for OTP verification count, since they become active without another check.
inline constexpr std::size_t kBankCardsPerAccountMax = 8;
// Devices (phones, watches) one account may register, deleted ones excluded.
inline constexpr std::size_t kDevicesPerUserMax = 16;
// A session token is valid this long after sign-in (no sliding renewal).
inline constexpr std::int64_t kSessionTtlSeconds = 24 * 60 * 60;
// Session token: random bytes from the RandomSource, sent as lowercase hex (64 characters).
inline constexpr std::size_t kSessionTokenBytes = 32;
// Random ids (users, cards): 16 bytes, 32 hex characters.
inline constexpr std::size_t kWalletIdBytes = 16;
// Passwords: at least this many bytes (NIST SP 800-63B 5.1.1.2: at least 8 characters).
inline constexpr std::size_t kPasswordBytesMin = 8;
// E.164: at most 15 digits after the '+' (ITU-T E.164 section 6); we ask for at least 8.
inline constexpr std::size_t kPhoneDigitsMin = 8;
inline constexpr std::size_t kPhoneDigitsMax = 15;
// Device ids, names and holder names: at most this many bytes of UTF-8.
inline constexpr std::size_t kDeviceIdBytesMax = 64;
inline constexpr std::size_t kDeviceNameBytesMax = 64;
inline constexpr std::size_t kHolderNameBytesMax = 64;
// Idempotency-Key header: 1 to this many printable ASCII characters (a UUID is 36).
inline constexpr std::size_t kIdempotencyKeyBytesMax = 64;
// How long an idempotency record is kept (replays after that are new requests).
inline constexpr std::int64_t kIdempotencyRecordTtlSeconds = 24 * 60 * 60;
// Request bodies the HTTP routes accept.
inline constexpr std::size_t kRequestBodyBytesMax = 16 * 1024;
// Transactions returned per card (merged over its tokens, newest first).
inline constexpr int kCardTransactionsMax = 50;
// Single-use keys one HCE replenishment asks the TSP for (the device holds at most 64 per batch,
// device/token_credentials.h kLimitedUseKeysPerBatchMax).
inline constexpr int kHceKeysPerReplenishMax = 64;
// Notifications pulled from the TSP per page, and pages per sync call.
inline constexpr int kNotificationsPageMax = 100;
inline constexpr int kNotificationPagesPerSyncMax = 10;
// Location in micro-degrees (WGS 84): latitude within ±90°, longitude within ±180°.
inline constexpr std::int64_t kLatitudeE6Max = 90'000'000;
inline constexpr std::int64_t kLongitudeE6Max = 180'000'000;

}  // namespace tapstack::wallet
