// In-app payment with a device token (like Apple Pay in-app with EMV payment data, the form
// Apple Pay uses for China UnionPay): the wallet on the phone asks its own secure element for an
// EMV cryptogram for one merchant order, and the merchant sends it through its acquirer as an
// authorisation with the chip data in DE55.
//
// Device side (MakeInAppPayment): after the user passed the biometric check
// (SecureElement::BiometricVerified), the wallet runs the contactless kernel against its own
// secure element with the merchant's terminal data: the order's amount and currency (9F02, 5F2A),
// the merchant's country (9F1A), today's date (9A, from the clock) and the unpredictable number
// (9F37) the MERCHANT chose for this order and gave the wallet. CDOL1 carries 9F02 and 9F37, so the
// ARQC covers them: the cryptogram cannot pay another amount or another order. The result goes to
// the merchant as JSON payment data; the phone has no PAN (the token stands in for it).
//
// Merchant side (InAppPurchaseFromJson): checks the payment data against the order it expects
// (the amount, currency and unpredictable number inside DE55, an ARQC) before anything is sent,
// and turns it into an acquirer::Purchase with entry mode kInAppChip (DE22 "092",
// pos_terminal.h), the token in DE2, its expiry in DE14, the PSN in DE23 and DE48 DI / TR (the
// TSP requires the device id for the in-app channel, tsp/token_authorization.h).
//
// Payment data (JSON object, every value a string):
//   "type"          "emv"        the EMV in-app form (Apple Pay's paymentDataType "EMV")
//   "token"         13-19 digits, Luhn-valid: the payment token (never a PAN)
//   "token_expiry"  YYMM         the token's own expiry
//   "psn"           2 digits     the card sequence number (5F34); optional
//   "emv_data"      hex          DE55 as the kernel built it (9F26 9F27 9F10 9F37 9F36 95 9A 9C
//                                9F02 5F2A 82 9F1A 9F03 9F33 9F34 9F35 84), at most
//                                kInAppEmvDataBytesMax bytes
//   "device_id"     1-64 printable ASCII, no spaces: the device the token is bound to (DE48 DI)
//   "requestor_id"  11 digits    the wallet's token requestor id (DE48 TR); optional
// Other members are ignored (later versions may add some).
//
// Thread-safety: the functions are pure apart from the transport and the clock they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "acquirer/contactless_kernel.h"
#include "acquirer/pos_terminal.h"
#include "core/amount.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::acquirer {

// 9F37 is 4 bytes (EMV Book 4 Annex A1; the card's PDOL/CDOL1 ask for 4).
inline constexpr std::size_t kInAppUnpredictableNumberBytes = 4;
// Largest DE55 the payment data may carry (the kernel's full list is about 120 bytes; DE55 is
// LLLVAR up to 255 in most network specs).
inline constexpr std::size_t kInAppEmvDataBytesMax = 255;
// The merchant name shown on the wallet's payment sheet (DE43's name part is 40 characters).
inline constexpr std::size_t kInAppMerchantNameBytesMax = 40;
inline constexpr std::size_t kInAppDeviceIdBytesMax = 64;
// The value of "type".
inline constexpr std::string_view kInAppPaymentType = "emv";

// One merchant order as the wallet receives it from the merchant's app.
struct InAppOrder {
  std::string merchant_name;             // shown on the payment sheet; 1-40 printable ASCII
  Amount amount{Cny()};                  // 9F02 / 5F2A; more than zero, at most n12
  std::uint16_t country_numeric = 156;   // 9F1A: the merchant's country (ISO 3166-1)
  std::string unpredictable_number_hex;  // 9F37: 8 hex digits the merchant chose for this order
  std::string device_id;                 // DE48 DI: this device (the token's device)
  std::string requestor_id;              // DE48 TR: the wallet's token requestor id; empty: none
  Bytes aid;  // the token to pay with (SecureElement::TokenAid); empty: the PPSE's first choice
};

// Device side: runs the contactless kernel over `secure_element` (the phone's own secure element,
// SecureElement::Transmit) with the order's terminal data and the merchant's unpredictable number,
// and returns the payment data above. The wallet must have reported the biometric check first.
// The kernel is built here, over a random source that yields exactly the merchant's number: a
// kernel draws 9F37 from its RandomSource, and an in-app payment must not choose its own.
// Errors: kInvalidArgument naming the order field (empty or long merchant name, amount not
// 1..n12, UN not 8 hex digits, bad device or requestor id); the kernel's (the card did not answer
// as EMV requires); kFailedPrecondition when the card declined offline (AAC: no biometric check).
Result<nlohmann::json> MakeInAppPayment(ApduTransport secure_element, const Clock& clock,
                                        const InAppOrder& order);

// Merchant side: the purchase to send for `payment_data`, after checking it is an ARQC made for
// `expected_amount` (9F02 and 5F2A) and `expected_unpredictable_number_hex` (9F37, 8 hex digits,
// either case). Errors, all kInvalidArgument naming the member (and the EMV tag) and what was
// expected: not an object; a missing or malformed member; "type" not "emv"; DE55 that does not
// decode, repeats a tag, lacks 9F26/9F27/9F36/9F02/5F2A/9F37 or has them at the wrong length; 9F27
// not an ARQC; 9F02, 5F2A or 9F37 not the expected ones; expected amount not 1..n12 or
// expected UN not 8 hex digits. Nothing is sent either way.
Result<Purchase> InAppPurchaseFromJson(const nlohmann::json& payment_data,
                                       const Amount& expected_amount,
                                       std::string_view expected_unpredictable_number_hex);

// A fresh unpredictable number for one merchant order: 8 upper-case hex digits from `random`
// (crypto::Csprng in production). Errors: the source's.
Result<std::string> NewInAppUnpredictableNumber(RandomSource& random);

}  // namespace tapstack::acquirer
