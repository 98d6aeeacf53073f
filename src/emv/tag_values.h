// TagValues: the values of EMV data objects by tag (a terminal's transaction data, a card's
// records), and TagSources: an ordered list of them where the first source holding a tag wins.
// DOL building (dol.h) and the ARQC engine read data objects through TagSources.
//
// TagValues owns its bytes; TagSources only points at TagValues the caller keeps alive.
// Neither is thread-safe for mutation; concurrent const use is safe.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "emv/tlv.h"

namespace tapstack::emv {

// Most data objects one TagValues holds (a card's records and a terminal's data stay far below).
inline constexpr std::size_t kTagValuesMax = 512;

class TagValues {
 public:
  struct Entry {
    TlvTag tag;
    Bytes value;
  };

  TagValues() = default;

  // Sets or replaces the value of `tag`. Errors: malformed tag (CheckTlvTag), value longer than
  // kTlvValueBytesMax, or more than kTagValuesMax tags.
  Status Set(TlvTag tag, ByteView value);
  // As Set with the tag and value in hex ("9F02", "000000001000"); lower case accepted. Errors
  // name the tag.
  Status SetHex(std::string_view tag_hex, std::string_view value_hex);

  // The value of `tag`, or nullopt. The view dies when the tag is set again or this is destroyed.
  std::optional<ByteView> Get(TlvTag tag) const;
  bool Contains(TlvTag tag) const { return Get(tag).has_value(); }

  // Adds every primitive object of `tree` whose tag is not yet present; the first occurrence in
  // document order wins (as TlvTree::Find). Templates themselves are not added.
  // Errors: as Set (too many tags).
  Status AddFromTree(const TlvTree& tree);

  // Entries in insertion order.
  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// Most sources one TagSources holds.
inline constexpr std::size_t kTagSourcesMax = 8;

class TagSources {
 public:
  TagSources() = default;
  // Sources in priority order; null pointers are skipped. More than kTagSourcesMax is a
  // programmer error (std::length_error).
  TagSources(std::initializer_list<const TagValues*> sources);

  // Appends a lower-priority source. More than kTagSourcesMax is a programmer error.
  void Add(const TagValues& source);
  // Inserts a source ahead of all others. More than kTagSourcesMax is a programmer error.
  void AddFirst(const TagValues& source);

  // The value of `tag` in the first source that has it.
  std::optional<ByteView> Find(TlvTag tag) const;

  std::size_t size() const { return count_; }

 private:
  std::array<const TagValues*, kTagSourcesMax> sources_{};
  std::size_t count_ = 0;
};

}  // namespace tapstack::emv
