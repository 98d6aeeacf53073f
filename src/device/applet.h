// Applet: one card application living on the secure element, reached only through APDUs routed
// by the ApduHost (device/apdu_host.h). The host owns the applets and calls them from one thread
// at a time; applets need not be thread-safe.
#pragma once

#include "core/bytes.h"
#include "emv/apdu.h"

namespace tapstack::device {

class Applet {
 public:
  virtual ~Applet() = default;

  // The application identifier (5-16 bytes) that SELECT by DF name routes to this applet.
  virtual ByteView aid() const = 0;

  // The value of this applet's template 61 in the PPSE directory (4F AID, 50 label, 87 priority,
  // 9F2A kernel id; EMV Contactless Book B section 3.3.2), or empty to stay out of the directory.
  virtual Bytes DirectoryEntry() const = 0;

  // SELECT of this applet: starts a new transaction and returns the FCI (Book 1 11.3.4).
  virtual emv::ResponseApdu Select() = 0;

  // Another applet (or the PPSE) was selected: the transaction in progress ends.
  virtual void Deselect() = 0;

  // Any command other than SELECT while this applet is selected. Must answer every input with a
  // status word (never throw): 6D00 for an instruction it does not know, 6E00 for a wrong class.
  virtual emv::ResponseApdu Process(const emv::CommandApdu& command) = 0;
};

}  // namespace tapstack::device
