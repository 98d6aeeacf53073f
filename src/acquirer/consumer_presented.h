// "Show to pay": an EMVCo consumer-presented (CPM) QR code carrying a payment token and an ARQC
// from the phone's secure element, scanned at a merchant and sent through the acquirer as an
// authorisation like a contactless tap (issue #8; qr-and-cross-border.md §2).
//
// Device side (MakeConsumerPresentedCode): after the user passed the biometric check
// (SecureElement::BiometricVerified), the wallet runs the contactless kernel against its own
// secure element, as for an in-app payment (in_app_payment.h), but with NO amount: 9F02 = 0,
// because the phone does not know what the merchant will charge (the TSP then lets the issuer
// authorise DE4, tsp/token_authorization.h); 5F2A / 9F1A are the wallet's currency and country;
// 9A is today's date; 9F37 is drawn by the PHONE (there is no terminal challenge, CPM v1.0 §2:
// crypto::Csprng by default). The code is the base64 text (qr/cpm.h) of:
//   85 "CPV01"
//   61 application template
//      4F   the AID the kernel selected
//      50   application label (optional, ConsumerCodeOptions)
//      57   track 2 equivalent as the card holds it: the TOKEN, its expiry; never a PAN
//      5F34 PAN sequence number, when the card has one
//      9F25 last 4 digits of the funding PAN (optional: the wallet knows them from provisioning;
//           the card only knows the token)
//      63   application specific transparent template: every tag of the kernel's DE55 (9F26 9F27
//           9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A 9F03 9F33 9F34 9F35 84) and 9F21
// Generation time: 9A (YYMMDD) and 9F21 (HHMMSS), both UTC, read from one clock reading. What binds
// it: the card's CDOL1 is 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 (device/payment_applet.cc), so the
// ARQC covers the DATE (9A) but NOT the time of day: 9F21 is not in CDOL1 and the cryptogram does
// not cover it. The kConsumerCodeValiditySeconds limit is therefore the scanner's check on a value
// anyone could rewrite, not a cryptographic one; what stops a copied code is the ATC: each code
// has its own, and the TSP accepts an ATC once (tsp/token_authorization.h), so a code pays at most
// once. An unused copy stays acceptable to the TSP while its ATC is inside the TSP's window
// (kAtcWindow newer codes), whatever 9F21 says.
//
// Merchant side (ConsumerPresentedPurchase): checks the text and turns it into an
// acquirer::Purchase with entry mode kConsumerQr (DE22 "032", pos_terminal.h), DE2 = the token
// from 57, DE14 = its expiry from 57, DE23 = "0" + 5F34, DE55 = template 63's objects in their
// order, DE4 / DE49 = the sale's amount. No DE48: the scanner does not know the device, and the
// TSP does not ask for one on this channel.
//
// Thread-safety: the functions are pure apart from the transport, clock and random source given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "acquirer/contactless_kernel.h"
#include "acquirer/pos_terminal.h"
#include "core/amount.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "core/currency.h"
#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::acquirer {

// A code is refused by the scanner once it is older than this (the wallet refreshes it every
// minute, issue #8).
inline constexpr std::int64_t kConsumerCodeValiditySeconds = 60;
// How far a code's time may lie ahead of the scanner's clock (phone and terminal clocks drift).
inline constexpr std::int64_t kConsumerCodeClockSkewSeconds = 10;
// 50 application label: an..16 (EMV Book 3 Annex A).
inline constexpr std::size_t kConsumerCodeLabelBytesMax = 16;
// DE55 rebuilt from template 63 (the kernel's list plus 9F21 is about 130 bytes; DE55 is LLLVAR up
// to 255 in most network specs).
inline constexpr std::size_t kConsumerCodeIccDataBytesMax = 255;

struct ConsumerCodeOptions {
  const Currency* currency = &Cny();    // 5F2A: the wallet's currency (a sale must be in it)
  std::uint16_t country_numeric = 156;  // 9F1A: the wallet's country (ISO 3166-1 numeric)
  std::string application_label;        // 50: 1-16 printable ASCII; empty: not sent
  std::string pan_last4;                // 9F25: 4 digits of the funding PAN; empty: not sent
  // 9F37: the phone's unpredictable number; nullptr: crypto::Csprng. Tests inject SeededRandom.
  RandomSource* random = nullptr;
  // AIDs the wallet's kernel selects (ContactlessKernelOptions); default Mastercard and Visa.
  ContactlessKernelOptions kernel;
};

// Device side: runs the kernel over `secure_element` (SecureElement::Transmit) with 9F02 = 0 and
// the options above, and returns the CPM base64 text described at the top of this file. The
// wallet must have reported the biometric check first. Each call spends one ATC on the card.
// Errors: kInvalidArgument naming the option (currency, country, label, pan_last4); the kernel's
// (the card did not answer as EMV requires) and the random source's; kFailedPrecondition when the
// card declined offline (AAC: no biometric check); EncodeCpm's (a payload that does not fit).
Result<std::string> MakeConsumerPresentedCode(ApduTransport secure_element, const Clock& clock,
                                              const ConsumerCodeOptions& options = {});

struct ConsumerScanOptions {
  // Application templates whose 4F is one of these or starts with one (CPM v1.0 §5.1: exact
  // match, or the ADF name longer with the AID as prefix); the first such 61 is used. Default:
  // Mastercard A0000000041010 and Visa A0000000031010.
  std::vector<Bytes> accepted_aids = {
      {0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10},
      {0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10},
  };
  std::int64_t validity_seconds = kConsumerCodeValiditySeconds;
  std::int64_t clock_skew_seconds = kConsumerCodeClockSkewSeconds;
};

// Merchant side: the purchase to send for the scanned `text` and the sale's `amount`, at
// `now_unix_millis` (the scanner's clock). Checks, each a kInvalidArgument naming the tag (and
// never quoting the token): the text starts with "hQVDUFY" (kCpmBase64Prefix); DecodeCpm finds
// it valid; a 61 with an accepted 4F; 57 holds a 13-19 digit Luhn-valid token, "D", YYMM; 5F34
// one BCD byte when present; 63 present with 9F26 (8 bytes), 9F27 an ARQC, 9F36 (2), 9F10, 9F37
// (4), 9A (3), 9F21 (3), 9F02 (6) and 5F2A (2), each once; 84, when present, equal to 4F; 9F02
// zero or the sale's amount; 5F2A the sale's currency; 9A + 9F21 a valid UTC time not older than
// validity_seconds and not more than clock_skew_seconds ahead (kFailedPrecondition for those two:
// the code is well formed but stale or from the future); DE55 at most
// kConsumerCodeIccDataBytesMax bytes. The amount must be 1..n12 minor units. Nothing is sent
// either way.
Result<Purchase> ConsumerPresentedPurchase(std::string_view text, const Amount& amount,
                                           std::int64_t now_unix_millis,
                                           const ConsumerScanOptions& options = {});

}  // namespace tapstack::acquirer
