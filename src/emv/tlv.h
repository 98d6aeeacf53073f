// BER-TLV as EMV uses it (ISO/IEC 8825-1 as profiled by EMV 4.x Book 3 Annex B).
//
// Decoding builds a TlvTree: a flat, preorder vector of nodes whose values are views into the
// caller's input (no copy, no allocation per node). The input must outlive the tree. Constructed
// objects (bit 6 of the first tag byte set) are parsed recursively; unknown tags are kept.
// The tree records how every object was written (tag size, length-field form, 00/FF padding), so
// EncodeTlvTree reproduces the decoded bytes exactly.
//
// Accepted: tags of 1-4 bytes (EMV uses 1-3), length fields 00-7F, 81 xx and 82 xx xx, and
// padding bytes 00 or FF before, between and after objects (Book 3 Annex B1; ISO/IEC 7816-4
// 5.2.2.1), when TlvDecodeOptions::allow_padding is set (the default).
// Refused, with the byte offset and what was wrong: a truncated tag or length, the indefinite
// length (80), a length field of 83 or more (beyond kTlvLengthBytesMax), a value that overruns its
// parent (or the input), and nesting deeper than kTlvDepthMax.
//
// Thread-safety: a TlvTree is immutable after decoding; concurrent reads are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::emv {

// A tag as its encoded bytes read big-endian: 0x9F02 for "9F 02", 0xBF0C, 0xDF8101.
using TlvTag = std::uint32_t;

// Longest tag accepted (a TlvTag holds 4 encoded bytes; EMV tags use at most 3).
inline constexpr std::size_t kTlvTagBytesMax = 4;
// Longest length field accepted: the first byte plus two (82 xx xx). EMV data never needs more.
inline constexpr std::size_t kTlvLengthBytesMax = 3;
// Largest value length a length field can state within kTlvLengthBytesMax.
inline constexpr std::size_t kTlvValueBytesMax = 0xFFFF;
// tlv_depth_max: top-level objects have depth 0; an object at depth kTlvDepthMax is refused.
// EMV's deepest real nesting (PPSE FCI 6F > A5 > BF0C > 61 > 4F) reaches depth 4.
inline constexpr std::size_t kTlvDepthMax = 8;
// Largest input one decode accepts (a bound on the tree's size: at most half as many nodes).
inline constexpr std::size_t kTlvInputBytesMax = std::size_t{1} << 20;

struct TlvDecodeOptions {
  // Skip 00 and FF bytes where a tag would start (Book 3 Annex B1, ISO/IEC 7816-4). Default: on.
  // When off, 00 and FF are read as (malformed or unusual) tags.
  bool allow_padding = true;
  // Nesting limit; values above kTlvDepthMax are clamped to it.
  std::size_t depth_max = kTlvDepthMax;
};

inline constexpr std::uint32_t kTlvNoNode = 0xFFFFFFFF;

// One decoded object. Indices refer to TlvTree::nodes().
struct TlvNode {
  TlvTag tag = 0;
  std::uint8_t tag_bytes = 0;     // encoded tag size (1-4)
  std::uint8_t length_bytes = 0;  // encoded length-field size as received (1-3), kept on re-encode
  std::uint8_t depth = 0;         // 0 for top-level objects
  bool constructed = false;       // the value holds nested objects (see children)
  std::uint32_t offset = 0;       // offset of the first tag byte in the decoded input
  ByteView value;                 // the value bytes, a view into the decoded input
  ByteView leading_padding;       // 00/FF bytes right before this object (usually empty)
  ByteView trailing_padding;      // constructed: 00/FF bytes after the last child, inside value
  std::uint32_t parent = kTlvNoNode;
  std::uint32_t first_child = kTlvNoNode;
  std::uint32_t next_sibling = kTlvNoNode;
};

class TlvTree {
 public:
  // Iterates over siblings (the roots, or a node's children) in document order.
  class Siblings {
   public:
    class Iterator {
     public:
      using iterator_category = std::forward_iterator_tag;
      using value_type = TlvNode;
      using difference_type = std::ptrdiff_t;
      using pointer = const TlvNode*;
      using reference = const TlvNode&;

      Iterator() = default;
      Iterator(const std::vector<TlvNode>* nodes, std::uint32_t index)
          : nodes_(nodes), index_(index) {}
      const TlvNode& operator*() const { return (*nodes_)[index_]; }
      const TlvNode* operator->() const { return &(*nodes_)[index_]; }
      Iterator& operator++() {
        index_ = (*nodes_)[index_].next_sibling;
        return *this;
      }
      Iterator operator++(int) {
        Iterator before = *this;
        ++*this;
        return before;
      }
      friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }

     private:
      const std::vector<TlvNode>* nodes_ = nullptr;
      std::uint32_t index_ = kTlvNoNode;
    };

    Siblings(const std::vector<TlvNode>* nodes, std::uint32_t first)
        : nodes_(nodes), first_(first) {}
    Iterator begin() const { return {nodes_, first_}; }
    Iterator end() const { return {nodes_, kTlvNoNode}; }
    bool empty() const { return first_ == kTlvNoNode; }

   private:
    const std::vector<TlvNode>* nodes_;
    std::uint32_t first_;
  };

  TlvTree() = default;

  // Every object in preorder (a template before its children, siblings in document order).
  const std::vector<TlvNode>& nodes() const { return nodes_; }
  std::size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }

  // The top-level objects, and the children of `node` (empty for a primitive object).
  Siblings roots() const { return {&nodes_, nodes_.empty() ? kTlvNoNode : 0}; }
  Siblings children(const TlvNode& node) const { return {&nodes_, node.first_child}; }

  // The decoded input (a view) and the padding after the last top-level object.
  ByteView source() const { return source_; }
  ByteView trailing_padding() const { return trailing_padding_; }

  // The first object with `tag` in preorder, at any depth (recursive first match); nullptr if none.
  const TlvNode* Find(TlvTag tag) const;
  // The first direct child of `parent` with `tag`; nullptr if none.
  const TlvNode* FindChild(const TlvNode& parent, TlvTag tag) const;
  // The first top-level object with `tag`; nullptr if none.
  const TlvNode* FindRoot(TlvTag tag) const;

 private:
  friend Status DecodeTlvInto(ByteView input, TlvTree& tree, const TlvDecodeOptions& options);

  std::vector<TlvNode> nodes_;
  ByteView source_;
  ByteView trailing_padding_;
};

// Decodes `input` (zero or more objects, optionally padded). The tree views `input`.
// Errors (kInvalidArgument): malformed or truncated encoding, with its byte offset;
// (kOutOfRange): nesting deeper than the depth limit, a length field longer than
// kTlvLengthBytesMax, or input above kTlvInputBytesMax.
Result<TlvTree> DecodeTlv(ByteView input, const TlvDecodeOptions& options = {});

// As DecodeTlv, reusing `tree`'s storage (no allocation once its capacity suffices). On error the
// tree is left empty.
Status DecodeTlvInto(ByteView input, TlvTree& tree, const TlvDecodeOptions& options = {});

// The tree views its input, so decoding a temporary buffer would leave it dangling.
Result<TlvTree> DecodeTlv(Bytes&& input, const TlvDecodeOptions& options = {}) = delete;
Status DecodeTlvInto(Bytes&& input, TlvTree& tree, const TlvDecodeOptions& options = {}) = delete;

// Re-encodes a decoded tree from its nodes: for an unmodified tree the result equals the input
// byte for byte (same tag bytes, same length forms, same padding).
Result<Bytes> EncodeTlvTree(const TlvTree& tree);
Status AppendTlvTree(const TlvTree& tree, Bytes& out);

// ---- tags ---------------------------------------------------------------------------------------

// Number of encoded bytes of `tag` (1-4; 0x00 counts as one byte).
std::size_t TlvTagBytes(TlvTag tag);
// True when bit 6 of the first tag byte is set (a template holding nested objects).
bool TlvTagIsConstructed(TlvTag tag);
// OK when `tag` is a well-formed BER tag: the first byte's low five bits are 11111 exactly when
// more bytes follow, and every byte but the last has bit 8 set. Errors (kInvalidArgument) name it.
Status CheckTlvTag(TlvTag tag);
// "9F02". Always uppercase and a whole number of bytes.
std::string TlvTagHex(TlvTag tag);
// "9F02" or "9f02" to 0x9F02. Errors: not hex, odd length, empty, longer than kTlvTagBytesMax,
// or not a well-formed tag (CheckTlvTag).
Result<TlvTag> ParseTlvTagHex(std::string_view hex);

// ---- building -----------------------------------------------------------------------------------

// Appends tag || length (shortest form) || value. Errors: malformed tag (kInvalidArgument),
// value longer than kTlvValueBytesMax (kOutOfRange). `out` is unchanged on error.
Status AppendTlv(Bytes& out, TlvTag tag, ByteView value);
Result<Bytes> EncodeTlv(TlvTag tag, ByteView value);

// Appends the shortest BER length field for `length` (00-7F, 81 xx, 82 xx xx).
// Errors (kOutOfRange): length above kTlvValueBytesMax.
Status AppendTlvLength(Bytes& out, std::size_t length);

}  // namespace tapstack::emv
