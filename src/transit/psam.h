// Psam: the purchase secure access module inside a gate or bus validator (PBOC / T-Union PSAM,
// shared/design/domain/transit-purse.md sections 4, 5 and 9). It holds the national purchase
// master key (DPK master) and maintenance master key, diversifies them per card from the card's
// serial number, numbers every purchase with its terminal transaction sequence, computes MAC1,
// verifies the card's MAC2 and computes the secure-messaging MAC that blocks a blacklisted card.
//
// Like the card it is reached only through APDUs (Transmit), so a validator drives card and SAM
// the same way real firmware does:
//   READ BINARY             00 B0 96 00 06      -> PSAM number (6), the terminal id in MAC inputs
//   INIT SAM FOR PURCHASE   80 70 00 00 1C      card random (4) | ETC (2) | amount (4) | type (1) |
//                                               date-time (7) | key version (1) | algorithm id (1) |
//                                               serial last 8 (8)
//                                               -> terminal seq (4) | MAC1 (4)
//   CREDIT SAM FOR PURCHASE 80 72 00 00 04      MAC2 (4) -> 9000, or 9302 when it does not verify
//   MAC FOR BLOCK           80 FA 05 <alg> 10   challenge (8) | serial last 8 (8) -> MAC (4) for
//                                               the card's APPLICATION BLOCK (84 1E 00 00 04);
//                                               P2 = the card's algorithm id (00 TDES, 04 SM4)
// CREDIT SAM checks MAC2 against the last INIT SAM session; the session survives until the next
// INIT SAM so a validator can still check the MAC2 of a torn purchase recovered with GET
// TRANSACTION PROVE at the next tap.
//
// The terminal sequence is the PSAM's non-volatile counter: it never repeats. The owner persists
// next_sequence() (the validator writes it with its grey record) and passes it back on restart.
// Not thread-safe: a validator owns its PSAM and uses it from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "crypto/secret_bytes.h"
#include "emv/apdu.h"
#include "transit/trip_record.h"

namespace tapstack::transit {

inline constexpr std::size_t kPsamDateTimeBytes = 7;
inline constexpr std::uint8_t kPurchaseTypeEp = 0x06;    // EP purchase (transaction type byte)
inline constexpr std::uint8_t kPurchaseTypeCapp = 0x09;  // EP compound-application purchase
inline constexpr std::uint8_t kLoadTypeEp = 0x02;

using PsamNumber = TerminalId;  // the PSAM number is the terminal id in every MAC input

struct PsamOptions {
  PsamNumber number{};
  std::uint8_t key_version = 1;
  crypto::SecretBytes purchase_master_key;     // DPK master, 16 bytes
  crypto::SecretBytes maintenance_master_key;  // application maintenance master, 16 bytes
  std::uint32_t next_sequence = 1;             // the first terminal sequence to use
};

class Psam {
 public:
  // Errors (kInvalidArgument): a master key that is not 16 bytes, next_sequence 0.
  static Result<Psam> Create(PsamOptions options);

  // One C-APDU in, the R-APDU out (data || SW1 SW2). Never fails: bad input gets 6700 (length),
  // 6A86 (P1/P2), 6D00 (instruction), 6E00 (class), 9403 (a key version it does not hold), 6985
  // (CREDIT SAM without a session, a sequence at its maximum), 9302 (MAC2 does not verify).
  Bytes Transmit(ByteView command_apdu);
  emv::ResponseApdu Process(const emv::CommandApdu& command);

  const PsamNumber& number() const { return options_.number; }
  std::uint32_t next_sequence() const { return options_.next_sequence; }

 private:
  explicit Psam(PsamOptions options) : options_(std::move(options)) {}

  emv::ResponseApdu InitForPurchase(const emv::CommandApdu& command);
  emv::ResponseApdu CreditForPurchase(const emv::CommandApdu& command);
  emv::ResponseApdu MacForBlock(const emv::CommandApdu& command);

  struct Session {
    crypto::PurseAlgorithm algorithm;
    crypto::SecretBytes session_key;
    std::array<std::uint8_t, 4> amount;
  };

  PsamOptions options_;
  std::optional<Session> session_;
};

}  // namespace tapstack::transit
