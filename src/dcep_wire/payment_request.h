// Payment request, sent by the payee's applet to the payer's (docs/dcep-offline.md):
//
//   E1 { 9F02 amount fen (8) | 5F2A currency numeric (2) | 9F37 payee nonce (16)
//        | 9A time unix s (8) | 7F21 payee device certificate | 7F21 payee operator certificate }
//
// Not signed: the nonce binds the payer's signed transfer to this request, and the payer checks
// the payee's chain (and its revocation list) before paying. The two certificates come in this
// order. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "core/status.h"
#include "dcep_wire/certificate.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagPaymentRequest = 0xE1;

struct PaymentRequest {
  std::int64_t amount_fen = 0;
  std::uint16_t currency_numeric = 0;
  Bytes payee_nonce;  // 16 bytes
  std::int64_t time_unix_s = 0;  // informational: wearables have no trusted clock
  Certificate payee_device;
  Certificate payee_operator;
};

// The E1 encoding; the certificates go as their `encoded` bytes. Errors (kInvalidArgument):
// amount not positive, a nonce other than 16 bytes, negative time, an empty certificate.
Result<Bytes> EncodePaymentRequest(const PaymentRequest& request);

// Errors (kInvalidArgument) name the tag: wrong tag, missing/repeated/unknown fields, widths,
// a zero amount, certificates that do not parse (ParseCertificate), trailing bytes; kOutOfRange
// above kPaymentRequestBytesMax. Does not verify the certificates.
Result<PaymentRequest> ParsePaymentRequest(ByteView encoded);

}  // namespace tapstack::dcep_wire
