// Wire profiles: how the ISO 8583:1987 dictionary (field_spec.h) is laid out in bytes.
//
//   ascii            ASCII MTI and fields, ASCII LL/LLL prefixes, binary 8-byte bitmaps, binary
//                    fields (DE52, DE55, DE64, DE128) as raw bytes. tapstack's default wire profile.
//   ascii-hexbitmap  as ascii, but each bitmap is 16 hex characters and binary fields are hex text
//                    (LL/LLL count hex characters), like jPOS ISO87APackager.
//   bcd              BCD MTI, binary bitmaps, numerics packed BCD (fixed: left-padded with a 0
//                    nibble; variable: right-padded, BCD length prefix of 1 (LL) or 2 (LLL) bytes
//                    counting digits), z fields BCD with '=' as nibble D and an F pad nibble,
//                    text fields ASCII, binary fields raw; like jPOS ISO87BPackager.
#pragma once

#include <span>
#include <string_view>

#include "core/status.h"
#include "iso8583/field_spec.h"

namespace tapstack::iso8583 {

enum class ProfileId { kAscii, kAsciiHexBitmap, kBcd };

struct Profile {
  ProfileId id;
  std::string_view name;
  bool bcd_mti;             // MTI as 2 BCD bytes instead of 4 ASCII digits
  bool hex_bitmap;          // each bitmap as 16 ASCII hex characters instead of 8 bytes
  bool bcd_numerics;        // n, z and x+n digits packed BCD; LL/LLL prefixes BCD
  bool hex_binary_fields;   // b fields as ASCII hex text

  const FieldSpec& field(int number) const { return Field87(number); }
};

const Profile& AsciiProfile();
const Profile& AsciiHexBitmapProfile();
const Profile& BcdProfile();

// Look-up by name ("ascii", "ascii-hexbitmap", "bcd"). Errors: unknown name (the known ones listed).
Result<const Profile*> ProfileByName(std::string_view name);

}  // namespace tapstack::iso8583
