#include "transit/psam.h"

#include <algorithm>
#include <limits>

#include "crypto/mac.h"

namespace tapstack::transit {

namespace {

constexpr std::uint8_t kClaProprietary = 0x80;
constexpr std::uint8_t kClaInterindustry = 0x00;
constexpr std::uint8_t kInsReadBinary = 0xB0;
constexpr std::uint8_t kInsInitSamForPurchase = 0x70;
constexpr std::uint8_t kInsCreditSamForPurchase = 0x72;
constexpr std::uint8_t kInsMacForBlock = 0xFA;
constexpr std::uint8_t kSfiPsamNumber = 0x16;  // the PSAM's terminal-number file (0016)
constexpr std::size_t kInitSamDataBytes = 28;   // 0x1C, transit-purse.md section 4
constexpr std::size_t kMacForBlockDataBytes = 16;

emv::ResponseApdu Sw(emv::StatusWord sw) { return {{}, sw}; }

void AppendU32(Bytes& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

}  // namespace

Result<Psam> Psam::Create(PsamOptions options) {
  if (options.purchase_master_key.size() != crypto::kPurseKeyBytes ||
      options.maintenance_master_key.size() != crypto::kPurseKeyBytes) {
    return InvalidArgument("PSAM master keys must be 16 bytes each");
  }
  if (options.next_sequence == 0) return InvalidArgument("PSAM next_sequence must be at least 1");
  return Psam(std::move(options));
}

Bytes Psam::Transmit(ByteView command_apdu) {
  Result<emv::CommandApdu> command = emv::ParseCommandApdu(command_apdu);
  emv::ResponseApdu response = command.ok() ? Process(*command) : Sw(emv::kSwWrongLength);
  Result<Bytes> encoded = emv::EncodeResponseApdu(response);
  return encoded.ok() ? std::move(*encoded) : Bytes{0x6F, 0x00};
}

emv::ResponseApdu Psam::Process(const emv::CommandApdu& command) {
  if (command.cla == kClaInterindustry && command.ins == kInsReadBinary) {
    if (command.p1 != (0x80 | kSfiPsamNumber) || command.p2 != 0) return Sw(emv::kSwIncorrectP1P2);
    return {Bytes(options_.number.begin(), options_.number.end()), emv::kSwSuccess};
  }
  if (command.cla != kClaProprietary) return Sw(emv::kSwClaNotSupported);
  switch (command.ins) {
    case kInsInitSamForPurchase:
      return InitForPurchase(command);
    case kInsCreditSamForPurchase:
      return CreditForPurchase(command);
    case kInsMacForBlock:
      return MacForBlock(command);
    default:
      return Sw(emv::kSwInsNotSupported);
  }
}

emv::ResponseApdu Psam::InitForPurchase(const emv::CommandApdu& command) {
  if (command.p1 != 0 || command.p2 != 0) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != kInitSamDataBytes) return Sw(emv::kSwWrongLength);
  const ByteView data = command.data;
  const ByteView card_random = data.subspan(0, 4);
  const std::uint16_t etc = static_cast<std::uint16_t>((data[4] << 8) | data[5]);
  const ByteView amount = data.subspan(6, 4);
  const std::uint8_t type = data[10];
  const ByteView date_time = data.subspan(11, kPsamDateTimeBytes);
  const std::uint8_t key_version = data[18];
  const ByteView serial_tail = data.subspan(20, crypto::kPurseDiversifierBytes);
  if (key_version != options_.key_version) return Sw(emv::kSwPurseKeyIndexNotSupported);
  Result<crypto::PurseAlgorithm> algorithm = crypto::PurseAlgorithmFromId(data[19]);
  if (!algorithm.ok()) return Sw(emv::kSwWrongData);
  if (type != kPurchaseTypeEp && type != kPurchaseTypeCapp) return Sw(emv::kSwWrongData);
  if (options_.next_sequence == std::numeric_limits<std::uint32_t>::max()) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  session_.reset();

  Result<crypto::SecretBytes> card_key =
      crypto::DiversifyPurseKey(*algorithm, options_.purchase_master_key, serial_tail);
  if (!card_key.ok()) return Sw(emv::kSwWrongData);
  const std::uint32_t sequence = options_.next_sequence;
  Result<crypto::SecretBytes> session_key = crypto::DerivePurseSessionKey(
      *algorithm, *card_key, crypto::PurchaseSessionInput(card_random, etc, sequence));
  if (!session_key.ok()) return Sw(emv::kSwWrongData);
  // MAC1 = amount | type | terminal id | date (4) | time (3) (transit-purse.md section 5).
  Bytes mac_input(amount.begin(), amount.end());
  mac_input.push_back(type);
  mac_input.insert(mac_input.end(), options_.number.begin(), options_.number.end());
  mac_input.insert(mac_input.end(), date_time.begin(), date_time.end());
  Result<crypto::PurseMac> mac1 = crypto::PurseSessionMac(*algorithm, *session_key, mac_input);
  if (!mac1.ok()) return Sw(emv::kSwWrongData);

  ++options_.next_sequence;  // the sequence is spent once MAC1 leaves the PSAM
  Session session{*algorithm, std::move(*session_key), {}};
  std::copy(amount.begin(), amount.end(), session.amount.begin());
  session_ = std::move(session);
  Bytes out;
  AppendU32(out, sequence);
  out.insert(out.end(), mac1->begin(), mac1->end());
  return {std::move(out), emv::kSwSuccess};
}

emv::ResponseApdu Psam::CreditForPurchase(const emv::CommandApdu& command) {
  if (command.p1 != 0 || command.p2 != 0) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != crypto::kPurseMacBytes) return Sw(emv::kSwWrongLength);
  if (!session_) return Sw(emv::kSwConditionsNotSatisfied);
  Result<crypto::PurseMac> expected =
      crypto::PurseSessionMac(session_->algorithm, session_->session_key, session_->amount);
  if (!expected.ok() || !crypto::ConstantTimeEquals(*expected, command.data)) {
    return Sw(emv::kSwPurseMacError);
  }
  return Sw(emv::kSwSuccess);
}

emv::ResponseApdu Psam::MacForBlock(const emv::CommandApdu& command) {
  if (command.p1 != 0x05) return Sw(emv::kSwIncorrectP1P2);
  Result<crypto::PurseAlgorithm> algorithm = crypto::PurseAlgorithmFromId(command.p2);
  if (!algorithm.ok()) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != kMacForBlockDataBytes) return Sw(emv::kSwWrongLength);
  const ByteView data = command.data;
  Result<crypto::SecretBytes> card_key = crypto::DiversifyPurseKey(
      *algorithm, options_.maintenance_master_key, data.subspan(8, crypto::kPurseDiversifierBytes));
  if (!card_key.ok()) return Sw(emv::kSwWrongData);
  static constexpr std::uint8_t kBlockHeader[] = {0x84, 0x1E, 0x00, 0x00, 0x04};
  Result<crypto::PurseMac> mac = crypto::PurseSecureMessagingMac(
      *algorithm, *card_key, data.subspan(0, crypto::kPurseChallengeBytes), kBlockHeader);
  if (!mac.ok()) return Sw(emv::kSwWrongData);
  return {Bytes(mac->begin(), mac->end()), emv::kSwSuccess};
}

}  // namespace tapstack::transit
