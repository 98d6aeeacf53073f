// A Message held in memory as a compact string, for state kept per request over a long time (the
// switch's duplicate window, a terminal's open authorisations): an iso8583::Message carries a
// fixed slot table of 1.5 KiB whatever it holds, the compact form about the wire size.
//
// Layout: MTI (4) | flags (1: bit 0 = forced secondary bitmap) | per present field: number (1),
// value length (2, big-endian), value. Values are at most 999 bytes (LLLVAR), so 2 bytes suffice.
// In-process only: not a wire format, not versioned, never read from outside.
#pragma once

#include <string>
#include <string_view>

#include "iso8583/message.h"

namespace tapstack::iso8583 {

std::string CompactMessage(const Message& m);

// The Message CompactMessage made `compact` from. `compact` must come from CompactMessage (it is
// trusted: a truncated string yields the fields that fit).
Message ExpandMessage(std::string_view compact);

}  // namespace tapstack::iso8583
