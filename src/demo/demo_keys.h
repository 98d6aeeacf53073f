// The demo network's bank keys, derived from fixed, published strings so every role process (the
// issuer, load generators, tests) agrees on them without a key exchange. They protect nothing:
// anyone with the source can derive them. Never use this scheme for a real bank.
//
//   PAN fingerprint key (32 bytes) = HMAC-SHA-256(SHA-256(kDemoPanFingerprintMaster), bank id)
//   card verification key (16 bytes) = the first 16 bytes of
//                                      HMAC-SHA-256(SHA-256(kDemoCardVerificationMaster), bank id)
// The PAN fingerprint derivation is the one the payment rail has always used, so card records
// already on disk keep matching.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::demo {

inline constexpr std::string_view kDemoPanFingerprintMaster =
    "tapstack demo key set: PAN fingerprint master (not a production secret)";
inline constexpr std::string_view kDemoCardVerificationMaster =
    "tapstack demo key set: card verification key master (not a production secret)";
inline constexpr std::string_view kDemoTspMaster =
    "tapstack demo key set: token service provider master (not a production secret)";
inline constexpr std::string_view kDemoTransitMaster =
    "tapstack demo key set: transit purse masters (not a production secret)";
inline constexpr std::string_view kDemoQrMaster =
    "tapstack demo key set: merchant QR MAC masters (not a production secret)";

// The issuer master key (IMK-AC) the demo TSP holds for its token BIN ranges: the IMK-AC of the
// published CVN-MC-20 vector in tests/vectors/emv_crypto.json (pyemv), a test key anyone can read.
inline constexpr std::string_view kDemoTokenImkHex = "0123456789ABCDEFFEDCBA9876543210";
// The API key of the demo token requestor (the tapstack wallet) at the TSP.
inline constexpr std::string_view kDemoRequestorApiKey = "demo-wallet-requestor-key-NOT-A-SECRET";

// The HMAC key an issuer uses to fingerprint the PANs of `institution_id`. Empty only if OpenSSL
// fails, which IssuerHost::Open then refuses (it requires a 16+ byte key).
crypto::SecretBytes DemoPanFingerprintKey(std::string_view institution_id);

// The double-length CVK (key A ‖ key B) of `institution_id`, for crypto/card_verification.h. DES
// parity is not adjusted (the algorithm ignores parity bits). Empty only if OpenSSL fails.
crypto::SecretBytes DemoCardVerificationKey(std::string_view institution_id);

// The demo TSP's keys, each 32 bytes = HMAC-SHA-256(SHA-256(kDemoTspMaster), purpose) with
// purpose "kek" (the vault's key-encryption key), "pan-fingerprint", "par" and "otp" (the HMAC key
// OTPs are stored under). Empty only if OpenSSL fails.
crypto::SecretBytes DemoTspKey(std::string_view purpose);
// The transit purse master keys (16 bytes each; crypto/purse_crypto.h diversifies card keys from
// them) = the first 16 bytes of HMAC-SHA-256(SHA-256(kDemoTransitMaster), scope "/" purpose):
//  - scope "t-union", purpose "purchase" (DPK) and "maintenance": the national keys every gate's
//    PSAM holds, so a card of one city pays and is blocked in every other;
//  - scope = a city code ("1000"), purpose "load" (DLK, the operator's load server) and "tac" (DTK,
//    the operator's clearing): each city's own keys.
// Empty only if OpenSSL fails.
crypto::SecretBytes DemoTransitKey(std::string_view scope, std::string_view purpose);
// The merchant QR MAC key of wallet platform `platform_id` (qrpay/merchant_qr.h), 32 bytes =
// HMAC-SHA-256(SHA-256(kDemoQrMaster), platform id). Empty only if OpenSSL fails.
crypto::SecretBytes DemoQrKey(std::string_view platform_id);
// kDemoTokenImkHex as key bytes.
crypto::SecretBytes DemoTokenImk();

// The CVV2 "printed on" a demo card: the card verification value of `pan` and `expiry_yymm` with
// service code 000 under the bank's demo CVK, so load generators and tests can send what a
// cardholder would type. Errors: as crypto::GenerateCardVerificationValue (bad PAN or expiry).
Result<std::string> DemoCardCvv2(std::string_view institution_id, std::string_view pan,
                                 std::string_view expiry_yymm);

}  // namespace tapstack::demo
