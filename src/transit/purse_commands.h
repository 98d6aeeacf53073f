// The terminal side of the transit purse's APDUs (the card contract in device/transit_applet.h;
// layouts in shared/design/domain/transit-purse.md section 4): builds each command, sends it
// through a transmit function (the contactless field, or the wallet's own channel to the secure
// element) and parses the answer into typed fields. A gate, a bus validator, the wallet's top-up
// and the operator's deletion all drive the card through this one place.
//
// Errors: kUnavailable when the card answered nothing (left the field: a torn transaction);
// kInvalidArgument when the answer is malformed (names the command and what was wrong);
// kFailedPrecondition carrying the status word for a card refusal ("9401 insufficient balance").
// PurseError() recovers that status word. Stateless apart from the transmit function; not
// thread-safe (one card, one field).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "emv/status_word.h"
#include "transit/trip_record.h"

namespace tapstack::transit {

inline constexpr std::size_t kSerialBytes = 10;
inline constexpr std::size_t kLogRecordBytes = 23;
inline constexpr std::size_t kLogRecordsMax = 10;
// T-Union electronic purse AID (transit-purse.md section 1).
inline constexpr std::array<std::uint8_t, 8> kTUnionAid = {0xA0, 0x00, 0x00, 0x06,
                                                           0x32, 0x01, 0x01, 0x05};

// Sends one C-APDU and returns the R-APDU; an empty answer means the card left the field.
using Transmit = std::function<Bytes(ByteView command_apdu)>;

using Serial = std::array<std::uint8_t, kSerialBytes>;

// SFI 15 public data and SFI 17 management data, the fields a terminal uses.
struct PurseIdentity {
  Bytes issuer_id;  // 8
  Serial serial{};
  std::uint32_t start_date = 0;   // YYYYMMDD
  std::uint32_t expiry_date = 0;  // YYYYMMDD
  std::string city_code;          // 4 digits from the BCD of SFI 17, e.g. "1000" (Beijing)
  // The last 8 serial bytes: the key diversifier.
  ByteView diversifier() const { return ByteView(serial).last(crypto::kPurseDiversifierBytes); }
};

struct PurchaseInit {  // INITIALIZE FOR (CAPP) PURCHASE answer
  std::uint32_t balance_fen = 0;
  std::uint16_t offline_counter = 0;  // ETC of this transaction
  std::uint8_t key_version = 0;
  crypto::PurseAlgorithm algorithm = crypto::PurseAlgorithm::kTdes;
  std::array<std::uint8_t, 4> card_random{};
};

struct LoadInit {  // INITIALIZE FOR LOAD answer
  std::uint32_t balance_fen = 0;
  std::uint16_t online_counter = 0;
  std::uint8_t key_version = 0;
  crypto::PurseAlgorithm algorithm = crypto::PurseAlgorithm::kTdes;
  std::array<std::uint8_t, 4> card_random{};
  crypto::PurseMac mac1{};
};

struct DebitProof {  // DEBIT FOR PURCHASE or GET TRANSACTION PROVE answer
  crypto::PurseMac tac{};
  crypto::PurseMac mac2{};
};

// A card transaction log record (SFI 18, 23 bytes).
struct PurseLogRecord {
  std::uint16_t counter = 0;
  std::uint32_t amount_fen = 0;
  std::uint8_t type = 0;
  TerminalId terminal_id{};
  Bytes date_time;  // 7 bytes BCD
};

// The status word a card refusal carried, if `status` is one.
std::optional<emv::StatusWord> PurseError(const Status& status);

class PurseCommands {
 public:
  explicit PurseCommands(Transmit transmit) : transmit_(std::move(transmit)) {}

  // SELECT the T-Union purse. A blocked application (6283) is kFailedPrecondition with that SW.
  Status Select();
  Result<PurseIdentity> ReadIdentity();
  Result<std::uint32_t> GetBalance();
  // READ RECORD SFI 1A record 01: the 48-byte trip record.
  Result<Bytes> ReadTripRecord();
  // READ RECORD SFI 18 record `index` (1 = newest). kNotFound past the last record (6A83).
  Result<PurseLogRecord> ReadLogRecord(std::uint8_t index);

  Result<PurchaseInit> InitializeForPurchase(bool capp, std::uint32_t amount_fen,
                                             const TerminalId& terminal_id);
  Status UpdateTripRecord(ByteView record48);
  Result<DebitProof> DebitForPurchase(std::uint32_t terminal_seq, ByteView date4, ByteView time3,
                                      const crypto::PurseMac& mac1);
  Result<DebitProof> GetTransactionProve(bool capp, std::uint16_t offline_counter);

  Result<LoadInit> InitializeForLoad(std::uint32_t amount_fen, const TerminalId& terminal_id);
  Result<crypto::PurseMac> CreditForLoad(ByteView date4, ByteView time3,
                                         const crypto::PurseMac& mac2);

  Result<std::array<std::uint8_t, crypto::kPurseChallengeBytes>> GetChallenge();
  Status ApplicationBlock(const crypto::PurseMac& mac);

 private:
  // Sends the command; returns the response data for 9000, the refusals as described above.
  Result<Bytes> Exchange(std::string_view name, ByteView command);

  Transmit transmit_;
};

}  // namespace tapstack::transit
