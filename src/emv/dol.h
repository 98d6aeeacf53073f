// Data Object Lists (EMV 4.x Book 3 section 5.4): PDOL (9F38), CDOL1 (8C), CDOL2 (8D),
// DDOL (9F49), TDOL (97). A DOL is a list of tag + length entries; the terminal answers it with
// the concatenated values, each fitted to its entry's length by its format (tag_dictionary.h):
//   - n (numeric): right-aligned; a longer value loses its leftmost bytes, a shorter one gets
//     leading 00 bytes;
//   - cn (compressed numeric): left-aligned; truncated on the right, padded on the right with FF;
//   - b, an, ans and unknown tags: left-aligned; truncated on the right, padded with 00;
//   - an entry of length 0 adds nothing; a tag no source holds, and a constructed tag, give
//     zeros of the entry's length.
// The card does the reverse with ParseDolData. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "emv/tag_dictionary.h"
#include "emv/tag_values.h"
#include "emv/tlv.h"

namespace tapstack::emv {

// Most entries one DOL may list.
inline constexpr std::size_t kDolEntriesMax = 64;
// Most data one DOL may ask for: a GPO command carries the PDOL data in template 83 (up to 3
// header bytes) inside one short APDU (Lc <= 255), and GENERATE AC's CDOL data fits the same.
inline constexpr std::size_t kDolDataBytesMax = 252;

struct DolEntry {
  TlvTag tag = 0;
  std::uint16_t length = 0;  // bytes the entry asks for

  friend bool operator==(const DolEntry&, const DolEntry&) = default;
};

// Parses a DOL. Each entry is a BER tag followed by a BER length (in practice one byte 00-7F;
// 81 xx is accepted). Errors (kInvalidArgument) name the offset: truncated tag or length, an
// indefinite or over-long length; (kOutOfRange) more than kDolEntriesMax entries or more than
// kDolDataBytesMax of data asked for.
Result<std::vector<DolEntry>> ParseDol(ByteView dol);

// The encoded DOL (tag bytes || one-byte length per entry; 81 xx for lengths above 7F).
// Errors: a malformed tag (CheckTlvTag), too many entries or too much data (as ParseDol).
Result<Bytes> EncodeDol(std::span<const DolEntry> dol);

// Sum of the entries' lengths.
std::size_t DolDataLength(std::span<const DolEntry> dol);

struct DolBuildOptions {
  // When set, a tag no source holds is an error (kNotFound) instead of zeros, and so is a value
  // whose length differs from the entry's (kInvalidArgument), instead of being fitted. The ARQC
  // engine builds cryptogram data this way so that a missing or mis-sized value cannot quietly
  // become zeros. Default: off (the terminal behaviour of Book 3 5.4).
  bool strict = false;
};

// Appends the value of `length` bytes for a data object of `format` (rules above) to `out`.
void AppendDolValue(TagFormat format, ByteView value, std::size_t length, Bytes& out);

// The DOL data: each entry's value from `sources` (first source holding the tag wins), fitted.
Result<Bytes> BuildDolData(std::span<const DolEntry> dol, const TagSources& sources,
                           const DolBuildOptions& options = {});
// As above, appending to `out` (nothing is appended on error).
Status AppendDolData(std::span<const DolEntry> dol, const TagSources& sources, Bytes& out,
                     const DolBuildOptions& options = {});
// Parses `dol` first (errors as ParseDol).
Result<Bytes> BuildDolData(ByteView dol, const TagSources& sources,
                           const DolBuildOptions& options = {});

// The card side: splits `data` received for `dol` into tag values. Errors (kInvalidArgument):
// `data` is not exactly DolDataLength(dol) bytes (the message gives both lengths).
Result<TagValues> ParseDolData(std::span<const DolEntry> dol, ByteView data);

}  // namespace tapstack::emv
