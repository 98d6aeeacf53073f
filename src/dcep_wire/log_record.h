// Log record of the hardware-wallet applet, as READ LOG returns it (docs/dcep-offline.md):
//
//   E9 { C8 log sequence (4) | D0 direction (01 sent, 02 received) | E2 transfer | E4 payer chain }
//
// A READ LOG answer is zero or more E9 objects back to back. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "dcep_wire/offline_transfer.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagLogRecord = 0xE9;

enum class LogDirection : std::uint8_t { kSent = 0x01, kReceived = 0x02 };

struct LogRecord {
  std::uint32_t sequence = 0;  // 1 for the first record; never reused
  LogDirection direction = LogDirection::kSent;
  OfflineTransfer transfer;
  CertificateChain payer_chain;
};

// E9 from the parts, given as their encodings (E2 and E4). Errors (kInvalidArgument): an empty
// part.
Result<Bytes> EncodeLogRecord(std::uint32_t sequence, LogDirection direction, ByteView transfer_e2,
                              ByteView chain_e4);
// One E9. Errors (kInvalidArgument) name the tag; kOutOfRange above kLogRecordBytesMax.
Result<LogRecord> ParseLogRecord(ByteView encoded);
// Zero or more E9 back to back (a READ LOG answer). Errors: as ParseLogRecord, naming the index.
Result<std::vector<LogRecord>> ParseLogRecords(ByteView encoded);

}  // namespace tapstack::dcep_wire
