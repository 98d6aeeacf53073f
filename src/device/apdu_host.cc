#include "device/apdu_host.h"

#include <algorithm>

#include "emv/apdu_chaining.h"
#include "emv/contactless_commands.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

using emv::CommandApdu;
using emv::ResponseApdu;

constexpr std::uint8_t kInsSelect = 0xA4;
constexpr std::uint8_t kP1SelectByName = 0x04;
constexpr std::uint8_t kP2FirstOrOnly = 0x00;

ResponseApdu Sw(emv::StatusWord sw) { return ResponseApdu{{}, sw}; }

bool ClassSupported(std::uint8_t cla) {
  // 00: ISO inter-industry; 80: EMV proprietary (GPO, GENERATE AC); 84: proprietary with secure
  // messaging (issuer scripts). Book 3 section 6.3.2. Each may carry the command-chaining bit
  // (b5, ISO/IEC 7816-4 5.4.1); the selected applet decides whether it chains.
  const auto base = static_cast<std::uint8_t>(cla & ~emv::kClaChainingBit);
  return base == 0x00 || base == 0x80 || base == 0x84;
}

bool SameBytes(ByteView a, ByteView b) { return std::ranges::equal(a, b); }

}  // namespace

Status ApduHost::Install(std::unique_ptr<Applet> applet) {
  const ByteView aid = applet->aid();
  if (aid.size() < emv::kAidBytesMin || aid.size() > emv::kAidBytesMax) {
    return InvalidArgument("applet AID must be 5-16 bytes");
  }
  if (Find(aid) != nullptr) return AlreadyExists("an applet with this AID is installed");
  if (applets_.size() >= kAppletsMax) {
    return OutOfRange("secure element holds at most " + std::to_string(kAppletsMax) + " applets");
  }
  applets_.push_back(std::move(applet));
  return Status::Ok();
}

Applet* ApduHost::Find(ByteView aid) const {
  for (const auto& applet : applets_) {
    if (SameBytes(applet->aid(), aid)) return applet.get();
  }
  return nullptr;
}

Bytes ApduHost::Transmit(ByteView command_apdu) {
  Result<CommandApdu> command = emv::ParseCommandApdu(command_apdu);
  ResponseApdu response = command.ok() ? Process(*command) : Sw(emv::kSwWrongLength);
  Result<Bytes> encoded = emv::EncodeResponseApdu(response);
  if (!encoded.ok()) {
    // An applet answered more than 256 bytes: a bug, reported without data.
    return {0x6F, 0x00};
  }
  return std::move(encoded).value();
}

ResponseApdu ApduHost::Process(const CommandApdu& command) {
  if (!ClassSupported(command.cla)) return Sw(emv::kSwClaNotSupported);
  if (command.ins == kInsSelect) return Select(command);
  if (selected_ == nullptr) {
    if (emv::InstructionName(command.ins).empty()) return Sw(emv::kSwInsNotSupported);
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  return selected_->Process(command);
}

ResponseApdu ApduHost::Select(const CommandApdu& command) {
  if (command.cla != 0x00) return Sw(emv::kSwClaNotSupported);
  if (command.p1 != kP1SelectByName || command.p2 != kP2FirstOrOnly) {
    return Sw(emv::kSwIncorrectP1P2);
  }
  if (command.data.empty() || command.data.size() > emv::kDfNameBytesMax) {
    return Sw(emv::kSwWrongLength);
  }
  if (selected_ != nullptr) {
    selected_->Deselect();
    selected_ = nullptr;
  }
  if (SameBytes(command.data, AsBytes(emv::kPpseName))) {
    return ResponseApdu{PpseFci(), emv::kSwSuccess};
  }
  Applet* applet = Find(command.data);
  if (applet == nullptr) return Sw(emv::kSwFileNotFound);
  selected_ = applet;
  return applet->Select();
}

Bytes ApduHost::PpseFci() const {
  // EMV Contactless Book B 3.3.2: 6F { 84 "2PAY.SYS.DDF01", A5 { BF0C { 61 {...} ... } } }.
  // Entries that would overflow one short response are left out (at most kAppletsMax of ~30
  // bytes each could exceed 256 bytes).
  Bytes directory;
  for (const auto& applet : applets_) {
    const Bytes entry = applet->DirectoryEntry();
    if (entry.empty()) continue;
    Bytes candidate = directory;
    if (!emv::AppendTlv(candidate, 0x61, entry).ok() || candidate.size() > 200) continue;
    directory = std::move(candidate);
  }
  Bytes proprietary;
  Bytes fci_body;
  Bytes fci;
  (void)emv::AppendTlv(proprietary, 0xBF0C, directory);
  Bytes a5;
  (void)emv::AppendTlv(a5, 0xA5, proprietary);
  (void)emv::AppendTlv(fci_body, 0x84, AsBytes(emv::kPpseName));
  fci_body.insert(fci_body.end(), a5.begin(), a5.end());
  (void)emv::AppendTlv(fci, 0x6F, fci_body);
  return fci;
}

}  // namespace tapstack::device
