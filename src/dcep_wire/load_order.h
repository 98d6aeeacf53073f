// Load order: the operator's signed instruction to credit a hardware wallet (online, from the
// user's online wallet; docs/dcep-offline.md):
//
//   E5 { E6 body { C1 device id | C4 load sequence (4) | 9F02 amount fen (8)
//        | 5F2A currency numeric (2) | 93 operator certificate serial (8) }
//      | 5F37 signature by the operator key over the complete E6 encoding }
//
// The applet accepts load sequence = last accepted + 1 only, so an order cannot be replayed;
// the same order again is answered as already done (idempotent retry). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagLoadOrder = 0xE5;
inline constexpr emv::TlvTag kTagLoadOrderBody = 0xE6;

struct LoadOrderBody {
  std::string device_id;
  std::uint32_t load_sequence = 0;  // 1 for the device's first load
  std::int64_t amount_fen = 0;
  std::uint16_t currency_numeric = 0;
  std::uint64_t operator_certificate_serial = 0;

  friend bool operator==(const LoadOrderBody&, const LoadOrderBody&) = default;
};

struct LoadOrder {
  LoadOrderBody body;
  Bytes signed_body;  // the complete E6 encoding
  Bytes signature;
  Bytes encoded;  // the complete E5 encoding
};

// Errors (kInvalidArgument): device id, amount not positive.
Result<Bytes> EncodeLoadOrderBody(const LoadOrderBody& body);
// E5 signed by the operator. Errors: as EncodeLoadOrderBody; kCryptoFailure.
Result<Bytes> IssueLoadOrder(const LoadOrderBody& body, const crypto::PrivateKey& operator_key);
// Errors (kInvalidArgument) name the tag; kOutOfRange above kLoadOrderBytesMax.
Result<LoadOrder> ParseLoadOrder(ByteView encoded);
// Errors: kCryptoFailure.
Status VerifyLoadOrder(const LoadOrder& order, const crypto::PublicKey& operator_key);

}  // namespace tapstack::dcep_wire
