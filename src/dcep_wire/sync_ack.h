// Sync acknowledgement: the operator's signed answer to a device's upload, carrying the
// revocation list (docs/dcep-offline.md):
//
//   E7 { E8 body { C1 device id | C5 log sequence acknowledged (4) | 9A operator time unix s (8)
//        | C6 revocation list version (4) | C7 revoked device ids }
//      | 5F37 signature by the operator key over the complete E8 encoding }
//
// C7 is a primitive tag under BER, so its value is the concatenation of C1 objects (one per
// revoked device id, possibly none), decoded as a nested list. At most kRevokedDevicesMax ids.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagSyncAck = 0xE7;
inline constexpr emv::TlvTag kTagSyncAckBody = 0xE8;

struct SyncAckBody {
  std::string device_id;
  std::uint32_t log_sequence_acknowledged = 0;  // every log record up to this one is settled
  std::int64_t operator_time_unix_s = 0;
  std::uint32_t revocation_list_version = 0;
  std::vector<std::string> revoked_device_ids;

  friend bool operator==(const SyncAckBody&, const SyncAckBody&) = default;
};

struct SyncAck {
  SyncAckBody body;
  Bytes signed_body;  // the complete E8 encoding
  Bytes signature;
  Bytes encoded;
};

// Errors (kInvalidArgument): device ids, negative time; kOutOfRange above kRevokedDevicesMax.
Result<Bytes> EncodeSyncAckBody(const SyncAckBody& body);
Result<Bytes> IssueSyncAck(const SyncAckBody& body, const crypto::PrivateKey& operator_key);
// Errors (kInvalidArgument) name the tag; kOutOfRange above kSyncAckBytesMax or
// kRevokedDevicesMax ids.
Result<SyncAck> ParseSyncAck(ByteView encoded);
Status VerifySyncAck(const SyncAck& ack, const crypto::PublicKey& operator_key);

}  // namespace tapstack::dcep_wire
