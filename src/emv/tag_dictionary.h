// Names, formats and lengths of the usual EMV data objects (EMV 4.x Book 3 Annex A; contactless
// tags from EMV Book C-2/C-3 and the tokenisation framework, see
// shared/design/domain/emv-and-tokenization.md section 13).
//
// The format decides how a DOL entry is filled (dol.h): n is right-aligned, cn and the others
// left-aligned. Lengths are in bytes as Book 3 gives them; a "var." element has the bound the
// standard or its template gives (0xFFFF when there is none). Some contactless tags mean different
// things per scheme (9F5D, 9F69, 9F6C, 9F6E); their names say both. Immutable and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "emv/tlv.h"

namespace tapstack::emv {

enum class TagFormat : std::uint8_t {
  kN,    // numeric: BCD digits, right-aligned, leading zero nibbles
  kCn,   // compressed numeric: BCD digits, left-aligned, trailing F nibbles
  kB,    // binary (also every template)
  kAn,   // alphanumeric ASCII
  kAns,  // alphanumeric and special ASCII
};

struct TagInfo {
  TlvTag tag;
  std::string_view name;
  TagFormat format;
  std::uint16_t length_min;  // bytes
  std::uint16_t length_max;  // bytes
};

// Every known tag, sorted by tag value.
std::span<const TagInfo> TagDictionary();

// The entry for `tag`, or nullptr when the tag is not in the dictionary (proprietary, e.g. DF01).
const TagInfo* FindTagInfo(TlvTag tag);

// The name of `tag`, or "" when unknown.
std::string_view TagName(TlvTag tag);

// The format of `tag`; binary for unknown tags (Book 3 treats unknown data as b).
TagFormat TagFormatOf(TlvTag tag);

// "n", "cn", "b", "an", "ans".
std::string_view TagFormatName(TagFormat format);

}  // namespace tapstack::emv
