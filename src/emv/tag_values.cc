#include "emv/tag_values.h"

#include <stdexcept>
#include <string>

#include "core/hex.h"

namespace tapstack::emv {

Status TagValues::Set(TlvTag tag, ByteView value) {
  TS_RETURN_IF_ERROR(CheckTlvTag(tag));
  if (value.size() > kTlvValueBytesMax) {
    return OutOfRange("tag " + TlvTagHex(tag) + ": value of " + std::to_string(value.size()) +
                      " bytes exceeds " + std::to_string(kTlvValueBytesMax));
  }
  for (Entry& entry : entries_) {
    if (entry.tag == tag) {
      entry.value.assign(value.begin(), value.end());
      return Status::Ok();
    }
  }
  if (entries_.size() >= kTagValuesMax) {
    return OutOfRange("more than " + std::to_string(kTagValuesMax) + " tags");
  }
  entries_.push_back(Entry{tag, Bytes(value.begin(), value.end())});
  return Status::Ok();
}

Status TagValues::SetHex(std::string_view tag_hex, std::string_view value_hex) {
  TS_ASSIGN_OR_RETURN(const TlvTag tag, ParseTlvTagHex(tag_hex));
  Result<Bytes> value = HexDecode(value_hex);
  if (!value.ok())
    return InvalidArgument("tag " + TlvTagHex(tag) + ": " + value.status().message());
  return Set(tag, *value);
}

std::optional<ByteView> TagValues::Get(TlvTag tag) const {
  for (const Entry& entry : entries_) {
    if (entry.tag == tag) return ByteView(entry.value);
  }
  return std::nullopt;
}

Status TagValues::AddFromTree(const TlvTree& tree) {
  for (const TlvNode& node : tree.nodes()) {
    if (node.constructed || Contains(node.tag)) continue;
    // Decoded tags may be unusual (e.g. FF when padding is off); keep them as decoded.
    if (entries_.size() >= kTagValuesMax) {
      return OutOfRange("more than " + std::to_string(kTagValuesMax) + " tags");
    }
    entries_.push_back(Entry{node.tag, Bytes(node.value.begin(), node.value.end())});
  }
  return Status::Ok();
}

TagSources::TagSources(std::initializer_list<const TagValues*> sources) {
  for (const TagValues* source : sources) {
    if (source != nullptr) Add(*source);
  }
}

void TagSources::Add(const TagValues& source) {
  if (count_ == kTagSourcesMax) throw std::length_error("TagSources: more than kTagSourcesMax");
  sources_[count_++] = &source;
}

void TagSources::AddFirst(const TagValues& source) {
  if (count_ == kTagSourcesMax) throw std::length_error("TagSources: more than kTagSourcesMax");
  for (std::size_t i = count_; i > 0; --i) sources_[i] = sources_[i - 1];
  sources_[0] = &source;
  ++count_;
}

std::optional<ByteView> TagSources::Find(TlvTag tag) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (std::optional<ByteView> value = sources_[i]->Get(tag)) return value;
  }
  return std::nullopt;
}

}  // namespace tapstack::emv
