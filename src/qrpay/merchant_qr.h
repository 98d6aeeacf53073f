// Merchant QR codes of a tapstack wallet platform: the EMVCo merchant-presented payloads a
// platform prints for the merchants it acquires (static: the payer types the amount; dynamic: one
// order, its amount, single use, expiring), and reading a scanned payload back.
//
// Layout (EMV QRCPS Merchant-Presented Mode v1.0; qr/mpm.h encodes and checks the CRC):
//   00 "01"   01 "11" static / "12" dynamic
//   26 merchant account information template (26–51 are templates, sub-ID 00 = a globally unique
//      identifier, MPM §4.5):
//        00 kMerchantQrGui ("cn.tapstack.qr", a reverse domain name)
//        01 platform id        the platform that acquires the merchant (it verifies the code)
//        02 merchant id
//   52 MCC  53 currency (numeric)  54 amount (dynamic only)  58 country  59 name  60 city
//   62 additional data: 01 bill number = the order id (dynamic only)
//   80 unreserved template: 00 kMerchantQrGui, 01 expiry (unix seconds, dynamic only),
//      02 MAC: 16 upper-case hex digits, the first 8 bytes of HMAC-SHA-256 under the platform's
//         QR key over MerchantQrMacInput() (every field above that a payer relies on)
//   63 CRC
// The CRC only catches misreads; the MAC is what tells a tampered code (an edited amount or
// merchant id with a recomputed CRC) from a genuine one, and only the issuing platform holds its
// key, so only it can say a code is genuine (a payer's platform that acquires nothing for that
// merchant forwards the payload through the network's QR clearing: network/qr_clearing.h).
//
// Pure and thread-safe; the key is borrowed for the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/amount.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::qrpay {

inline constexpr std::string_view kMerchantQrGui = "cn.tapstack.qr";
inline constexpr std::size_t kPlatformIdBytesMax = 16;      // [a-z0-9-], 1-16
inline constexpr std::size_t kMerchantIdBytesMax = 25;      // [A-Z0-9], 1-25 (MPM 62.01 limit)
inline constexpr std::size_t kOrderIdBytesMax = 25;         // [A-Za-z0-9-], 1-25 (MPM 62.01)
inline constexpr std::size_t kMerchantNameCharsMax = 25;    // MPM 59
inline constexpr std::size_t kMerchantCityCharsMax = 15;    // MPM 60
inline constexpr std::size_t kMerchantQrMacHexDigits = 16;  // 8 bytes of HMAC-SHA-256
inline constexpr std::size_t kMerchantQrKeyBytesMin = 32;

// Who a code pays. Text fields are UTF-8; lengths are counted in characters as MPM counts them.
struct MerchantProfile {
  std::string platform_id;  // [a-z0-9-], 1-16
  std::string merchant_id;  // [A-Z0-9], 1-25
  std::string name;         // 1-25 characters
  std::string city;         // 1-15 characters
  std::string country;      // ISO 3166-1 alpha-2 known to core/currency.h
  const Currency* currency = nullptr;  // the merchant's settlement currency (53)
  std::string mcc;          // 4 digits (ISO 18245)
};

struct DynamicOrder {
  std::string order_id;             // [A-Za-z0-9-], 1-25; unique per merchant
  Amount amount{Cny()};             // in the merchant's currency, > 0
  std::int64_t expires_unix_s = 0;  // > 0
};

// Errors (kInvalidArgument, naming the field and what was expected): a profile or order field
// outside the rules above; an order amount in another currency than the merchant's, or not
// positive; a key shorter than kMerchantQrKeyBytesMin.
Result<std::string> MakeStaticMerchantQr(const MerchantProfile& merchant,
                                         const crypto::SecretBytes& key);
Result<std::string> MakeDynamicMerchantQr(const MerchantProfile& merchant, const DynamicOrder& order,
                                          const crypto::SecretBytes& key);

// A scanned code as the payer's app shows it, before anyone has checked the MAC.
struct ScannedMerchantQr {
  bool dynamic = false;
  MerchantProfile merchant;
  std::optional<Amount> amount;     // dynamic codes: the order's amount
  std::string order_id;             // dynamic codes
  std::int64_t expires_unix_s = 0;  // dynamic codes
  std::string mac_hex;              // as printed (upper case)
};

// Decodes `payload` (qr::DecodeMpm: structure, CRC, EMVCo rules) and reads the tapstack objects.
// Errors (kInvalidArgument): the first MPM error ("id 54 at offset 87: …"); no template with
// kMerchantQrGui in 26–51 ("a merchant code of another scheme"); a missing or malformed platform
// id, merchant id, MAC or (dynamic) expiry, amount or order id; a static code with an amount;
// a currency or country core does not know.
Result<ScannedMerchantQr> ReadMerchantQr(std::string_view payload);

// The acquiring platform's check of a code it issued: the MAC (constant-time compare) and, for
// dynamic codes, the expiry. Single use is the platform's journal's business, not this.
// Errors: kCryptoFailure "mac: the code was altered after it was issued" when the MAC does not
// match (a tampered amount, merchant or order); kFailedPrecondition "expiry: the code expired at
// <unix s>, now <unix s>" when now_unix_s >= expires_unix_s.
Status VerifyMerchantQr(const ScannedMerchantQr& code, const crypto::SecretBytes& key,
                        std::int64_t now_unix_s);

// The bytes the MAC covers: the fields joined by 0x1F in this order: "tapstack-mpm-v1", dynamic
// ("12") or static ("11"), platform id, merchant id, name, city, country, currency numeric (3
// digits), MCC, amount minor units (empty when static), order id, expiry (decimal, empty when
// static).
std::string MerchantQrMacInput(const ScannedMerchantQr& code);

}  // namespace tapstack::qrpay
