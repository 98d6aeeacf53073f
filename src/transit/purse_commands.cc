#include "transit/purse_commands.h"

#include <algorithm>
#include <cstdio>

#include "core/hex.h"
#include "emv/apdu.h"

namespace tapstack::transit {

namespace {

constexpr std::uint8_t kSfiPublic = 0x15;
constexpr std::uint8_t kSfiManagement = 0x17;
constexpr std::uint8_t kSfiLog = 0x18;
constexpr std::uint8_t kSfiTrip = kTripRecordSfi;
constexpr std::size_t kPublicDataBytes = 30;
constexpr std::size_t kManagementDataBytes = 60;
constexpr std::size_t kPurchaseInitBytes = 15;
constexpr std::size_t kLoadInitBytes = 16;
constexpr std::size_t kProofBytes = 8;
constexpr std::uint8_t kKeyIndex = 0x01;

std::uint32_t U32(ByteView b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}
std::uint16_t U16(ByteView b) { return static_cast<std::uint16_t>((b[0] << 8) | b[1]); }

constexpr std::size_t kIssuerIdBytesOnCard = 8;

void PutU32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// YYYYMMDD from 4 BCD bytes; 0 when a nibble is not a digit (the terminal then treats the card
// as outside its validity).
std::uint32_t BcdDate(ByteView b) {
  std::uint32_t value = 0;
  for (std::uint8_t byte : b) {
    const int high = byte >> 4;
    const int low = byte & 0x0F;
    if (high > 9 || low > 9) return 0;
    value = value * 100 + static_cast<std::uint32_t>(high * 10 + low);
  }
  return value;
}

Bytes Command(std::uint8_t cla, std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, ByteView data,
              std::optional<std::uint8_t> le) {
  Bytes out = {cla, ins, p1, p2};
  if (!data.empty()) {
    out.push_back(static_cast<std::uint8_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
  }
  if (le) out.push_back(*le);
  return out;
}

Status CheckLength(std::string_view name, const Bytes& data, std::size_t expected) {
  if (data.size() != expected) {
    return InvalidArgument(std::string(name) + " answer must hold " + std::to_string(expected) +
                           " bytes; got " + std::to_string(data.size()));
  }
  return Status::Ok();
}

template <std::size_t N>
std::array<std::uint8_t, N> Take(ByteView from) {
  std::array<std::uint8_t, N> out{};
  std::copy_n(from.begin(), N, out.begin());
  return out;
}

}  // namespace

std::optional<emv::StatusWord> PurseError(const Status& status) {
  const std::string& message = status.message();
  if (status.code() != ErrorCode::kFailedPrecondition || message.size() < 4) return std::nullopt;
  Result<Bytes> sw = HexDecode(std::string_view(message).substr(0, 4));
  if (!sw.ok()) return std::nullopt;
  return emv::StatusWord((*sw)[0], (*sw)[1]);
}

Result<Bytes> PurseCommands::Exchange(std::string_view name, ByteView command) {
  const Bytes answer = transmit_(command);
  if (answer.empty()) return Unavailable(std::string(name) + ": no answer (card left the field)");
  Result<emv::ResponseApdu> response = emv::ParseResponseApdu(answer);
  if (!response.ok()) {
    return InvalidArgument(std::string(name) + ": " + response.status().message());
  }
  if (!response->sw.IsSuccess()) {
    // The message starts with the status word so PurseError() can recover it.
    return FailedPrecondition(emv::DescribeStatusWord(response->sw) + " (" + std::string(name) + ")");
  }
  return std::move(response->data);
}

Status PurseCommands::Select() {
  const Bytes command = Command(0x00, 0xA4, 0x04, 0x00, kTUnionAid, 0x00);
  const Bytes answer = transmit_(command);
  if (answer.empty()) return Unavailable("SELECT: no answer (card left the field)");
  TS_ASSIGN_OR_RETURN(emv::ResponseApdu response, emv::ParseResponseApdu(answer));
  if (!response.sw.IsSuccess()) {
    return FailedPrecondition(emv::DescribeStatusWord(response.sw) + " (SELECT T-Union purse)");
  }
  return Status::Ok();
}

Result<PurseIdentity> PurseCommands::ReadIdentity() {
  TS_ASSIGN_OR_RETURN(Bytes public_data,
                      Exchange("READ BINARY SFI 15", Command(0x00, 0xB0, 0x80 | kSfiPublic, 0x00, {},
                                                             kPublicDataBytes)));
  TS_RETURN_IF_ERROR(CheckLength("READ BINARY SFI 15", public_data, kPublicDataBytes));
  TS_ASSIGN_OR_RETURN(Bytes management,
                      Exchange("READ BINARY SFI 17", Command(0x00, 0xB0, 0x80 | kSfiManagement, 0x00,
                                                             {}, kManagementDataBytes)));
  TS_RETURN_IF_ERROR(CheckLength("READ BINARY SFI 17", management, kManagementDataBytes));
  PurseIdentity identity;
  identity.issuer_id.assign(public_data.begin(), public_data.begin() + kIssuerIdBytesOnCard);
  std::copy_n(public_data.begin() + 10, kSerialBytes, identity.serial.begin());
  identity.start_date = BcdDate(ByteView(public_data).subspan(20, 4));
  identity.expiry_date = BcdDate(ByteView(public_data).subspan(24, 4));
  identity.city_code = HexEncode(ByteView(management).subspan(6, 2));  // BCD digits
  return identity;
}

Result<std::uint32_t> PurseCommands::GetBalance() {
  TS_ASSIGN_OR_RETURN(Bytes data, Exchange("GET BALANCE", Command(0x80, 0x5C, 0x00, 0x02, {}, 4)));
  TS_RETURN_IF_ERROR(CheckLength("GET BALANCE", data, 4));
  return U32(data);
}

Result<Bytes> PurseCommands::ReadTripRecord() {
  TS_ASSIGN_OR_RETURN(Bytes data,
                      Exchange("READ RECORD SFI 1A", Command(0x00, 0xB2, kTripRecordId,
                                                             (kSfiTrip << 3) | 4, {}, kTripRecordBytes)));
  TS_RETURN_IF_ERROR(CheckLength("READ RECORD SFI 1A", data, kTripRecordBytes));
  return data;
}

Result<PurseLogRecord> PurseCommands::ReadLogRecord(std::uint8_t index) {
  Result<Bytes> data = Exchange("READ RECORD SFI 18",
                                Command(0x00, 0xB2, index, (kSfiLog << 3) | 4, {}, kLogRecordBytes));
  if (!data.ok()) {
    if (PurseError(data.status()) == emv::kSwRecordNotFound) {
      return NotFound("card log record " + std::to_string(index) + " does not exist");
    }
    return data.status();
  }
  TS_RETURN_IF_ERROR(CheckLength("READ RECORD SFI 18", *data, kLogRecordBytes));
  const ByteView b = *data;
  PurseLogRecord record;
  record.counter = U16(b.subspan(0, 2));
  record.amount_fen = U32(b.subspan(5, 4));
  record.type = b[9];
  std::copy_n(b.begin() + 10, kTerminalIdBytes, record.terminal_id.begin());
  record.date_time.assign(b.begin() + 16, b.end());
  return record;
}

Result<PurchaseInit> PurseCommands::InitializeForPurchase(bool capp, std::uint32_t amount_fen,
                                                          const TerminalId& terminal_id) {
  Bytes data = {kKeyIndex};
  PutU32(data, amount_fen);
  data.insert(data.end(), terminal_id.begin(), terminal_id.end());
  const std::string_view name = capp ? "INITIALIZE FOR CAPP PURCHASE" : "INITIALIZE FOR PURCHASE";
  TS_ASSIGN_OR_RETURN(Bytes answer,
                      Exchange(name, Command(0x80, 0x50, capp ? 0x03 : 0x01, 0x02, data,
                                             kPurchaseInitBytes)));
  TS_RETURN_IF_ERROR(CheckLength(name, answer, kPurchaseInitBytes));
  const ByteView b = answer;
  PurchaseInit init;
  init.balance_fen = U32(b.subspan(0, 4));
  init.offline_counter = U16(b.subspan(4, 2));
  init.key_version = b[9];
  TS_ASSIGN_OR_RETURN(init.algorithm, crypto::PurseAlgorithmFromId(b[10]));
  init.card_random = Take<4>(b.subspan(11, 4));
  return init;
}

Status PurseCommands::UpdateTripRecord(ByteView record48) {
  if (record48.size() != kTripRecordBytes) {
    return InvalidArgument("a trip record must be 48 bytes; got " + std::to_string(record48.size()));
  }
  return Exchange("UPDATE CAPP DATA CACHE",
                  Command(0x80, 0xDC, kTripRecordId, kSfiTrip << 3, record48, std::nullopt))
      .status();
}

Result<DebitProof> PurseCommands::DebitForPurchase(std::uint32_t terminal_seq, ByteView date4,
                                                   ByteView time3, const crypto::PurseMac& mac1) {
  if (date4.size() != 4 || time3.size() != 3) {
    return InvalidArgument("DEBIT FOR PURCHASE needs a 4-byte date and a 3-byte time");
  }
  Bytes data;
  PutU32(data, terminal_seq);
  data.insert(data.end(), date4.begin(), date4.end());
  data.insert(data.end(), time3.begin(), time3.end());
  data.insert(data.end(), mac1.begin(), mac1.end());
  TS_ASSIGN_OR_RETURN(Bytes answer, Exchange("DEBIT FOR PURCHASE",
                                             Command(0x80, 0x54, 0x01, 0x00, data, kProofBytes)));
  TS_RETURN_IF_ERROR(CheckLength("DEBIT FOR PURCHASE", answer, kProofBytes));
  return DebitProof{Take<4>(ByteView(answer).first(4)), Take<4>(ByteView(answer).last(4))};
}

Result<DebitProof> PurseCommands::GetTransactionProve(bool capp, std::uint16_t offline_counter) {
  const Bytes data = {static_cast<std::uint8_t>(offline_counter >> 8),
                      static_cast<std::uint8_t>(offline_counter)};
  TS_ASSIGN_OR_RETURN(Bytes answer,
                      Exchange("GET TRANSACTION PROVE",
                               Command(0x80, 0x5A, 0x00, capp ? 0x09 : 0x06, data, kProofBytes)));
  TS_RETURN_IF_ERROR(CheckLength("GET TRANSACTION PROVE", answer, kProofBytes));
  // Note the order: the prove answer is MAC2 then TAC (transit-purse.md section 4).
  return DebitProof{Take<4>(ByteView(answer).last(4)), Take<4>(ByteView(answer).first(4))};
}

Result<LoadInit> PurseCommands::InitializeForLoad(std::uint32_t amount_fen,
                                                  const TerminalId& terminal_id) {
  Bytes data = {kKeyIndex};
  PutU32(data, amount_fen);
  data.insert(data.end(), terminal_id.begin(), terminal_id.end());
  TS_ASSIGN_OR_RETURN(Bytes answer, Exchange("INITIALIZE FOR LOAD",
                                             Command(0x80, 0x50, 0x00, 0x02, data, kLoadInitBytes)));
  TS_RETURN_IF_ERROR(CheckLength("INITIALIZE FOR LOAD", answer, kLoadInitBytes));
  const ByteView b = answer;
  LoadInit init;
  init.balance_fen = U32(b.subspan(0, 4));
  init.online_counter = U16(b.subspan(4, 2));
  init.key_version = b[6];
  TS_ASSIGN_OR_RETURN(init.algorithm, crypto::PurseAlgorithmFromId(b[7]));
  init.card_random = Take<4>(b.subspan(8, 4));
  init.mac1 = Take<4>(b.subspan(12, 4));
  return init;
}

Result<crypto::PurseMac> PurseCommands::CreditForLoad(ByteView date4, ByteView time3,
                                                      const crypto::PurseMac& mac2) {
  if (date4.size() != 4 || time3.size() != 3) {
    return InvalidArgument("CREDIT FOR LOAD needs a 4-byte date and a 3-byte time");
  }
  Bytes data(date4.begin(), date4.end());
  data.insert(data.end(), time3.begin(), time3.end());
  data.insert(data.end(), mac2.begin(), mac2.end());
  TS_ASSIGN_OR_RETURN(Bytes answer,
                      Exchange("CREDIT FOR LOAD", Command(0x80, 0x52, 0x00, 0x00, data, 4)));
  TS_RETURN_IF_ERROR(CheckLength("CREDIT FOR LOAD", answer, 4));
  return Take<4>(answer);
}

Result<std::array<std::uint8_t, crypto::kPurseChallengeBytes>> PurseCommands::GetChallenge() {
  TS_ASSIGN_OR_RETURN(Bytes answer, Exchange("GET CHALLENGE", Command(0x00, 0x84, 0x00, 0x00, {},
                                                                      crypto::kPurseChallengeBytes)));
  TS_RETURN_IF_ERROR(CheckLength("GET CHALLENGE", answer, crypto::kPurseChallengeBytes));
  return Take<crypto::kPurseChallengeBytes>(answer);
}

Status PurseCommands::ApplicationBlock(const crypto::PurseMac& mac) {
  return Exchange("APPLICATION BLOCK", Command(0x84, 0x1E, 0x00, 0x00, mac, std::nullopt)).status();
}

}  // namespace tapstack::transit
