// ApduHost: the secure element's command dispatcher. Bytes in, bytes out: every C-APDU gets an
// R-APDU ending in SW1 SW2, whatever the input (ISO/IEC 7816-4 section 5.1.3 status words):
//
//   fewer than 4 bytes, Lc disagreeing with the body, extended length   6700 wrong length
//   CLA other than 00, 80 or 84                                         6E00 class not supported
//   SELECT (00 A4) with P1 other than 04 or P2 other than 00            6A86 incorrect P1 P2
//   SELECT without a name or with a name above 16 bytes                 6700 wrong length
//   SELECT of a name no applet has                                      6A82 file not found
//   no applet selected: an INS that is not an EMV one (apdu.h)          6D00 INS not supported
//   no applet selected: an EMV instruction                              6985 conditions not met
// With an applet selected every other command goes to it, which answers 6D00 for instructions
// it does not know (the transit purse uses PBOC instructions EMV does not list: 50, 52, 54 ...).
//
// SELECT "2PAY.SYS.DDF01" answers the PPSE FCI built from the installed applets' directory
// entries (EMV Contactless Book B section 3.3: 6F { 84, A5 { BF0C { 61 ... } } }); SELECT of an
// AID routes to that applet and makes it current. Everything else goes to the current applet.
// Not thread-safe: the owner (device/secure_element.h) serialises calls.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "device/applet.h"
#include "emv/apdu.h"

namespace tapstack::device {

// Most applets one secure element holds (one payment applet per token).
inline constexpr std::size_t kAppletsMax = 32;

// ISO/IEC 7816-4 5.1.3: 6581 memory failure (a persistent write did not complete).
inline constexpr emv::StatusWord kSwMemoryFailure{0x6581};

class ApduHost {
 public:
  // Adds an applet. Errors: an applet with the same AID exists (kAlreadyExists), more than
  // kAppletsMax (kOutOfRange), an AID outside 5-16 bytes (kInvalidArgument).
  Status Install(std::unique_ptr<Applet> applet);

  // The applet with `aid`, or nullptr.
  Applet* Find(ByteView aid) const;
  std::size_t applet_count() const { return applets_.size(); }

  // Processes one C-APDU and returns the encoded R-APDU (data || SW1 SW2).
  Bytes Transmit(ByteView command_apdu);

  // Processes a parsed command (Transmit without the codec).
  emv::ResponseApdu Process(const emv::CommandApdu& command);

  // The PPSE FCI for the installed applets.
  Bytes PpseFci() const;

 private:
  emv::ResponseApdu Select(const emv::CommandApdu& command);

  std::vector<std::unique_ptr<Applet>> applets_;
  Applet* selected_ = nullptr;
};

}  // namespace tapstack::device
