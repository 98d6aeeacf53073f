// Pack and unpack ISO 8583:1987 messages with one data-driven codec for every Profile.
//
// Layout: MTI, primary bitmap, secondary bitmap (when any field 65-128 is present, or forced),
// then the present fields in ascending order, each encoded as its FieldSpec and the Profile say.
// No framing here (see framing.h).
//
// Errors are kInvalidArgument whose message names the field ("DE35"), the byte offset in the
// message and what was expected, e.g. "DE4 at offset 20: non-digit 'x'; expected n12". A length
// overrun, a non-digit numeric, a bad BCD nibble, a truncated message or trailing bytes is an error;
// the codec never realigns silently. On error the output is unspecified but safe to reuse.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "iso8583/message.h"
#include "iso8583/profile.h"

namespace tapstack::iso8583 {

// Largest message tapstack accepts or produces (bytes, without frame header). Checked before any
// allocation sized by input.
inline constexpr std::size_t kMessageBytesMax = 8192;

// Appends the packed form of `message` to `out`. Fixed-length fields shorter than their length are
// padded (n: zeros on the left; a/an/ans: spaces on the right; x+n: zeros after the sign); longer
// values, wrong characters and wrong binary lengths are errors naming the field.
Status Pack(const Message& message, const Profile& profile, std::string& out);

// Parses exactly the bytes of `wire` into `out` (which is reset first). Accepts a secondary
// bitmap that is present but all zero and remembers it (force_secondary_bitmap) so that packing
// the result reproduces `wire` byte for byte. Refuses a tertiary bitmap (bit 65).
Status Unpack(ByteView wire, const Profile& profile, Message& out);

}  // namespace tapstack::iso8583
