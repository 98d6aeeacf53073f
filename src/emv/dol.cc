#include "emv/dol.h"

#include <algorithm>
#include <string>

#include "core/hex.h"
#include "emv/internal/ber.h"

namespace tapstack::emv {

namespace {

std::string At(std::size_t offset) { return "dol offset " + std::to_string(offset) + ": "; }

}  // namespace

Result<std::vector<DolEntry>> ParseDol(ByteView dol) {
  std::vector<DolEntry> entries;
  std::size_t pos = 0;
  std::size_t data_bytes = 0;
  while (pos < dol.size()) {
    if (entries.size() == kDolEntriesMax) {
      return OutOfRange(At(pos) + "more than " + std::to_string(kDolEntriesMax) + " entries");
    }
    internal::TagRead tag;
    switch (internal::ReadTag(dol, pos, tag)) {
      case internal::TagReadError::kOk:
        break;
      case internal::TagReadError::kTruncated:
        return InvalidArgument(At(pos) + "tag " + HexEncode(dol.subspan(pos)) + " truncated");
      case internal::TagReadError::kTooLong:
        return InvalidArgument(At(pos) + "tag longer than " + std::to_string(kTlvTagBytesMax) +
                               " bytes");
    }
    const std::string tag_hex = HexEncode(dol.subspan(pos, tag.bytes));
    if (tag.tag == 0x00) return InvalidArgument(At(pos) + "00 is not a tag");
    internal::LengthRead length;
    switch (internal::ReadLength(dol, pos + tag.bytes, length)) {
      case internal::LengthReadError::kOk:
        break;
      case internal::LengthReadError::kMissing:
        return InvalidArgument(At(pos) + "tag " + tag_hex + " has no length");
      case internal::LengthReadError::kTruncated:
        return InvalidArgument(At(pos) + "tag " + tag_hex + ": length truncated");
      case internal::LengthReadError::kIndefinite:
        return InvalidArgument(At(pos) + "tag " + tag_hex + ": length 80 is not a length");
      case internal::LengthReadError::kTooLong:
        return InvalidArgument(At(pos) + "tag " + tag_hex + ": length field too long");
    }
    data_bytes += length.length;
    if (data_bytes > kDolDataBytesMax) {
      return OutOfRange(At(pos) + "tag " + tag_hex + ": the DOL asks for more than " +
                        std::to_string(kDolDataBytesMax) + " bytes");
    }
    entries.push_back(DolEntry{tag.tag, static_cast<std::uint16_t>(length.length)});
    pos += tag.bytes + length.bytes;
  }
  return entries;
}

Result<Bytes> EncodeDol(std::span<const DolEntry> dol) {
  if (dol.size() > kDolEntriesMax) {
    return OutOfRange("dol: more than " + std::to_string(kDolEntriesMax) + " entries");
  }
  if (DolDataLength(dol) > kDolDataBytesMax) {
    return OutOfRange("dol: asks for more than " + std::to_string(kDolDataBytesMax) + " bytes");
  }
  Bytes out;
  for (const DolEntry& entry : dol) {
    TS_RETURN_IF_ERROR(CheckTlvTag(entry.tag));
    for (std::size_t i = TlvTagBytes(entry.tag); i > 0; --i) {
      out.push_back(static_cast<std::uint8_t>(entry.tag >> (8 * (i - 1))));
    }
    TS_RETURN_IF_ERROR(AppendTlvLength(out, entry.length));
  }
  return out;
}

std::size_t DolDataLength(std::span<const DolEntry> dol) {
  std::size_t total = 0;
  for (const DolEntry& entry : dol) total += entry.length;
  return total;
}

void AppendDolValue(TagFormat format, ByteView value, std::size_t length, Bytes& out) {
  const std::size_t copied = std::min(value.size(), length);
  const std::size_t padding = length - copied;
  if (format == TagFormat::kN) {
    // Right-aligned: keep the rightmost bytes, pad on the left with 00.
    out.insert(out.end(), padding, 0x00);
    out.insert(out.end(), value.end() - static_cast<std::ptrdiff_t>(copied), value.end());
    return;
  }
  out.insert(out.end(), value.begin(), value.begin() + static_cast<std::ptrdiff_t>(copied));
  out.insert(out.end(), padding, format == TagFormat::kCn ? 0xFF : 0x00);
}

Status AppendDolData(std::span<const DolEntry> dol, const TagSources& sources, Bytes& out,
                     const DolBuildOptions& options) {
  const std::size_t start = out.size();
  out.reserve(start + DolDataLength(dol));
  for (const DolEntry& entry : dol) {
    if (entry.length == 0) continue;
    const std::optional<ByteView> value = sources.Find(entry.tag);
    if (options.strict) {
      if (!value) {
        out.resize(start);
        const std::string_view name = TagName(entry.tag);
        return NotFound("tag " + TlvTagHex(entry.tag) +
                        (name.empty() ? std::string() : " (" + std::string(name) + ")") +
                        " is missing");
      }
      if (value->size() != entry.length) {
        out.resize(start);
        return InvalidArgument("tag " + TlvTagHex(entry.tag) + ": expected " +
                               std::to_string(entry.length) + " bytes, got " +
                               std::to_string(value->size()));
      }
    }
    if (!value || TlvTagIsConstructed(entry.tag)) {
      // Book 3 5.4: data the terminal does not have, and constructed objects, are zeros.
      out.insert(out.end(), entry.length, 0x00);
      continue;
    }
    AppendDolValue(TagFormatOf(entry.tag), *value, entry.length, out);
  }
  return Status::Ok();
}

Result<Bytes> BuildDolData(std::span<const DolEntry> dol, const TagSources& sources,
                           const DolBuildOptions& options) {
  Bytes out;
  TS_RETURN_IF_ERROR(AppendDolData(dol, sources, out, options));
  return out;
}

Result<Bytes> BuildDolData(ByteView dol, const TagSources& sources,
                           const DolBuildOptions& options) {
  TS_ASSIGN_OR_RETURN(const std::vector<DolEntry> entries, ParseDol(dol));
  return BuildDolData(entries, sources, options);
}

Result<TagValues> ParseDolData(std::span<const DolEntry> dol, ByteView data) {
  const std::size_t expected = DolDataLength(dol);
  if (data.size() != expected) {
    return InvalidArgument("dol data: expected " + std::to_string(expected) + " bytes, got " +
                           std::to_string(data.size()));
  }
  TagValues values;
  std::size_t pos = 0;
  for (const DolEntry& entry : dol) {
    // A tag listed twice keeps its first value, as TagSources would find it.
    if (!values.Contains(entry.tag)) {
      TS_RETURN_IF_ERROR(values.Set(entry.tag, data.subspan(pos, entry.length)));
    }
    pos += entry.length;
  }
  return values;
}

}  // namespace tapstack::emv
