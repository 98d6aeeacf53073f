// The QR code an e-CNY merchant shows: the EMVCo merchant-presented payload (static: the payer
// types the amount; dynamic: one order, its amount fixed, expiring), and reading a scanned one.
//
// Layout (EMV QRCPS Merchant-Presented Mode v1.0; qr/mpm.h encodes it and checks the CRC, the
// card/wallet platforms' codes in qrpay/merchant_qr.h use the same shape with their own GUI):
//   00 "01"   01 "11" static / "12" dynamic (§4.7.2)
//   26 merchant account information template (26–51 are templates whose sub-ID 00 is a globally
//      unique identifier, §4.5):
//        00 kMerchantQrGui ("cn.tapstack.dcep", a reverse domain name)
//        01 operator id        the operator that keeps the merchant's wallet and issued the code
//        02 merchant id        as in seed/dcep.json
//   52 MCC (ISO 18245)  53 "156" (CNY, ISO 4217)  54 amount in yuan, "26.00" (dynamic only)
//   58 "CN"  59 merchant name  60 merchant city
//   62 additional data: 01 bill number = the order id (dynamic only)
//   80 unreserved template: 00 kMerchantQrGui, 01 expiry (unix seconds, dynamic only),
//      02 MAC: 16 upper-case hex digits, the first 8 bytes of HMAC-SHA-256 under the issuing
//         operator's QR key over MerchantQrMacInput() (every field a payer relies on)
//   63 CRC
// The CRC only catches misreads. The MAC is what refuses a code whose amount, merchant, order or
// expiry was edited (with the CRC recomputed): only the issuing operator holds its QR key
// (dcep/qr_payments.h). Static codes carry a MAC too, so the name a payer sees stays bound to the
// merchant id that is paid.
//
// Pure and thread-safe; the key is borrowed for the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::dcep {

inline constexpr std::string_view kMerchantQrGui = "cn.tapstack.dcep";
// Template 26 holds at most 99 characters (MPM §4.4.1): 20 for the GUI object, 4 + 16 for the
// operator id, which leaves 4 + 55 for the merchant id (seed/dcep.json allows 64).
inline constexpr std::size_t kQrMerchantIdBytesMax = 55;
inline constexpr std::size_t kQrOrderIdBytesMax = 25;       // [A-Za-z0-9-], MPM 62.01 (≤ 25)
inline constexpr std::size_t kQrMerchantNameCharsMax = 25;  // MPM 59
inline constexpr std::size_t kQrMerchantCityCharsMax = 15;  // MPM 60
inline constexpr std::size_t kMerchantQrMacHexDigits = 16;  // 8 bytes of HMAC-SHA-256
inline constexpr std::size_t kMerchantQrKeyBytesMin = 32;
// MPM 54 is at most 13 characters: "9999999999.99".
inline constexpr std::int64_t kQrAmountFenMax = 999'999'999'999;
inline constexpr std::size_t kQrExpiryDigitsMax = 12;  // unix seconds

// One code, as issued or as scanned. Text fields are UTF-8; lengths of name and city are counted
// in characters as MPM counts them.
struct MerchantQr {
  bool dynamic = false;             // 01: "12" dynamic, "11" static
  std::string operator_id;          // 26.01: 1-16 of a-z 0-9, starting with a letter
  std::string merchant_id;          // 26.02: 1-55 of a-z 0-9 - _
  std::string mcc;                  // 52: 4 digits
  std::string name;                 // 59: 1-25 characters, no control characters
  std::string city;                 // 60: 1-15 characters, no control characters
  std::int64_t amount_fen = 0;      // 54, dynamic only: 1..kQrAmountFenMax; 0 when static
  std::string order_id;             // 62.01, dynamic only: 1-25 of A-Z a-z 0-9 -
  std::int64_t expires_unix_s = 0;  // 80.01, dynamic only: > 0; 0 when static
  std::string mac_hex;              // 80.02 as printed; ignored by EncodeMerchantQr
};

// The payload of `code` with its MAC under `key` (code.mac_hex is not read).
// Errors (kInvalidArgument, naming the field and what was expected): a field outside the rules
// above, including an amount, order id or expiry on a static code; a key shorter than
// kMerchantQrKeyBytesMin. kCryptoFailure if OpenSSL fails.
Result<std::string> EncodeMerchantQr(const MerchantQr& code, const crypto::SecretBytes& key);

// Decodes a scanned `payload` (qr::DecodeMpm: structure, CRC, EMVCo rules) and reads the e-CNY
// objects; the MAC is read but not checked (VerifyMerchantQr). Never crashes on any input.
// Errors (kInvalidArgument), each starting with the object it is about:
//   "id NN at offset K: …"  the first MPM error (structure, CRC, mandatory objects), or
//   "offset K: …"           when no object is to blame (empty, not id/length digits)
//   "id 26: …"              no template 26–51 with kMerchantQrGui (a code of another scheme)
//   "id 26.01: …" operator id, "id 26.02: …" merchant id, "id 52: …" MCC, "id 53: …" not CNY,
//   "id 58: …" not CN, "id 59: …" name, "id 60: …" city, "id 01: …" point of initiation,
//   "id 54: …" amount (missing on a dynamic code, present on a static one, not a positive amount
//   in yuan with at most 2 decimals), "id 62.01: …" order id, "id 80: …" no template 80 with
//   kMerchantQrGui, "id 80.01: …" expiry, "id 80.02: …" MAC.
Result<MerchantQr> ParseMerchantQr(std::string_view payload);

// The issuing operator's check: the MAC (constant-time compare) and, for dynamic codes, the expiry.
// Errors: kCryptoFailure "mac: the code was altered after it was issued …" when the MAC does not
// match; kFailedPrecondition "expires_unix_s: the code expired at <s>, now <s>" when
// now_unix_s >= code.expires_unix_s; kInvalidArgument for a short key.
Status VerifyMerchantQr(const MerchantQr& code, const crypto::SecretBytes& key,
                        std::int64_t now_unix_s);

// The bytes the MAC covers: "tapstack-dcep-mpm-v1", then each of point of initiation, operator id,
// merchant id, MCC, name, city, amount fen, order id, expiry as "<byte length>:<value>" (amount,
// order id and expiry empty when static). Length prefixes keep the split unambiguous.
std::string MerchantQrMacInput(const MerchantQr& code);

// `text` cut to at most `chars_max` characters (MPM counts characters, §4.4.1.1), never inside a
// UTF-8 sequence, with trailing spaces dropped: how a longer display name fits 59 or 60.
std::string FitMerchantQrText(std::string_view text, std::size_t chars_max);

}  // namespace tapstack::dcep
