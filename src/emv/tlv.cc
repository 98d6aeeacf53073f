#include "emv/tlv.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/hex.h"
#include "emv/internal/ber.h"

namespace tapstack::emv {

namespace {

using internal::IsPaddingByte;
using internal::LengthRead;
using internal::LengthReadError;
using internal::ReadLength;
using internal::ReadTag;
using internal::TagRead;
using internal::TagReadError;

std::string At(std::size_t offset) { return "tlv offset " + std::to_string(offset) + ": "; }

std::string TagBytesHex(ByteView in, std::size_t pos, std::size_t bytes) {
  return HexEncode(in.subspan(pos, bytes));
}

// Recursive-descent decoder over one contiguous input; recursion depth is bounded by depth_max.
class Decoder {
 public:
  Decoder(ByteView input, std::vector<TlvNode>& nodes, const TlvDecodeOptions& options)
      : in_(input),
        nodes_(nodes),
        allow_padding_(options.allow_padding),
        depth_max_(std::min(options.depth_max, kTlvDepthMax)) {}

  // Decodes the objects in [begin, end) as children of `parent` (kTlvNoNode for the top level).
  // Sets `first` to the first object's index and `trailing` to the padding after the last one.
  Status DecodeRange(std::size_t begin, std::size_t end, std::uint32_t parent, std::size_t depth,
                     std::uint32_t& first, ByteView& trailing) {
    const ByteView bounded = in_.first(end);
    std::size_t pos = begin;
    std::uint32_t previous = kTlvNoNode;
    first = kTlvNoNode;
    trailing = {};
    while (true) {
      const std::size_t padding_start = pos;
      if (allow_padding_) {
        while (pos < end && IsPaddingByte(in_[pos])) ++pos;
      }
      if (pos == end) {
        trailing = in_.subspan(padding_start, pos - padding_start);
        return Status::Ok();
      }
      if (depth >= depth_max_) {
        return OutOfRange(At(pos) + "nesting deeper than tlv_depth_max (" +
                          std::to_string(depth_max_) + ")");
      }
      TagRead tag;
      switch (ReadTag(bounded, pos, tag)) {
        case TagReadError::kOk:
          break;
        case TagReadError::kTruncated:
          return InvalidArgument(At(pos) + "tag " + TagBytesHex(in_, pos, end - pos) +
                                 " truncated " + Within(parent));
        case TagReadError::kTooLong:
          return InvalidArgument(At(pos) + "tag longer than " + std::to_string(kTlvTagBytesMax) +
                                 " bytes");
      }
      // Built only on the error paths: the hot path allocates nothing per node.
      const auto tag_hex = [&] { return TagBytesHex(in_, pos, tag.bytes); };
      LengthRead length;
      switch (ReadLength(bounded, pos + tag.bytes, length)) {
        case LengthReadError::kOk:
          break;
        case LengthReadError::kMissing:
          return InvalidArgument(At(pos) + "tag " + tag_hex() + ": length field missing " +
                                 Within(parent));
        case LengthReadError::kTruncated:
          return InvalidArgument(At(pos) + "tag " + tag_hex() + ": length field " +
                                 HexEncode(bounded.subspan(pos + tag.bytes)) + " truncated " +
                                 Within(parent));
        case LengthReadError::kIndefinite:
          return InvalidArgument(At(pos) + "tag " + tag_hex() +
                                 ": indefinite length (80) is not allowed in EMV");
        case LengthReadError::kTooLong:
          return OutOfRange(At(pos) + "tag " + tag_hex() + ": length field " +
                            HexEncode(bounded.subspan(pos + tag.bytes, 1)) + " longer than " +
                            std::to_string(kTlvLengthBytesMax) + " bytes");
      }
      const std::size_t value_start = pos + tag.bytes + length.bytes;
      if (length.length > end - value_start) {
        return InvalidArgument(
            At(pos) + "tag " + tag_hex() + ": value of " + std::to_string(length.length) +
            " bytes overruns " +
            (parent == kTlvNoNode ? std::string("the input") : std::string("its parent")) + " by " +
            std::to_string(length.length - (end - value_start)) + " bytes");
      }
      const auto index = static_cast<std::uint32_t>(nodes_.size());
      TlvNode& node = nodes_.emplace_back();
      node.tag = tag.tag;
      node.tag_bytes = static_cast<std::uint8_t>(tag.bytes);
      node.length_bytes = static_cast<std::uint8_t>(length.bytes);
      node.depth = static_cast<std::uint8_t>(depth);
      node.constructed = (in_[pos] & 0x20) != 0;
      node.offset = static_cast<std::uint32_t>(pos);
      node.value = in_.subspan(value_start, length.length);
      node.leading_padding = in_.subspan(padding_start, pos - padding_start);
      node.parent = parent;
      if (previous == kTlvNoNode) {
        first = index;
      } else {
        nodes_[previous].next_sibling = index;
      }
      previous = index;
      pos = value_start + length.length;
      if (nodes_[index].constructed) {
        std::uint32_t first_child = kTlvNoNode;
        ByteView child_trailing;
        TS_RETURN_IF_ERROR(
            DecodeRange(value_start, pos, index, depth + 1, first_child, child_trailing));
        nodes_[index].first_child = first_child;  // `node` may dangle after the recursion
        nodes_[index].trailing_padding = child_trailing;
      }
    }
  }

 private:
  std::string Within(std::uint32_t parent) const {
    if (parent == kTlvNoNode) return "at the end of the input";
    return "inside template " + TlvTagHex(nodes_[parent].tag) + " at offset " +
           std::to_string(nodes_[parent].offset);
  }

  ByteView in_;
  std::vector<TlvNode>& nodes_;
  bool allow_padding_;
  std::size_t depth_max_;
};

std::size_t ContentSize(const std::vector<TlvNode>& nodes, const TlvNode& node);

std::size_t EncodedSize(const std::vector<TlvNode>& nodes, const TlvNode& node) {
  return node.leading_padding.size() + node.tag_bytes + node.length_bytes +
         ContentSize(nodes, node);
}

std::size_t ContentSize(const std::vector<TlvNode>& nodes, const TlvNode& node) {
  if (!node.constructed) return node.value.size();
  std::size_t size = node.trailing_padding.size();
  for (std::uint32_t i = node.first_child; i != kTlvNoNode; i = nodes[i].next_sibling) {
    size += EncodedSize(nodes, nodes[i]);
  }
  return size;
}

// Appends `content` as a length field of exactly `length_bytes` bytes (the form received, so a
// non-minimal 81 05 stays 81 05). False when it does not fit that form.
bool AppendLengthInForm(Bytes& out, std::size_t content, std::size_t length_bytes) {
  switch (length_bytes) {
    case 1:
      if (content > 0x7F) return false;
      out.push_back(static_cast<std::uint8_t>(content));
      return true;
    case 2:
      if (content > 0xFF) return false;
      out.push_back(0x81);
      out.push_back(static_cast<std::uint8_t>(content));
      return true;
    case 3:
      if (content > 0xFFFF) return false;
      out.push_back(0x82);
      out.push_back(static_cast<std::uint8_t>(content >> 8));
      out.push_back(static_cast<std::uint8_t>(content));
      return true;
    default:
      return false;
  }
}

Status WriteNode(const std::vector<TlvNode>& nodes, const TlvNode& node, Bytes& out) {
  out.insert(out.end(), node.leading_padding.begin(), node.leading_padding.end());
  for (std::size_t i = node.tag_bytes; i > 0; --i) {
    out.push_back(static_cast<std::uint8_t>(node.tag >> (8 * (i - 1))));
  }
  const std::size_t content = ContentSize(nodes, node);
  if (!AppendLengthInForm(out, content, node.length_bytes)) {
    return Internal("tlv encode: tag " + TlvTagHex(node.tag) + ": content of " +
                    std::to_string(content) + " bytes does not fit a length field of " +
                    std::to_string(node.length_bytes) + " bytes");
  }
  if (!node.constructed) {
    out.insert(out.end(), node.value.begin(), node.value.end());
    return Status::Ok();
  }
  for (std::uint32_t i = node.first_child; i != kTlvNoNode; i = nodes[i].next_sibling) {
    TS_RETURN_IF_ERROR(WriteNode(nodes, nodes[i], out));
  }
  out.insert(out.end(), node.trailing_padding.begin(), node.trailing_padding.end());
  return Status::Ok();
}

}  // namespace

const TlvNode* TlvTree::Find(TlvTag tag) const {
  for (const TlvNode& node : nodes_) {
    if (node.tag == tag) return &node;
  }
  return nullptr;
}

const TlvNode* TlvTree::FindChild(const TlvNode& parent, TlvTag tag) const {
  for (const TlvNode& child : children(parent)) {
    if (child.tag == tag) return &child;
  }
  return nullptr;
}

const TlvNode* TlvTree::FindRoot(TlvTag tag) const {
  for (const TlvNode& root : roots()) {
    if (root.tag == tag) return &root;
  }
  return nullptr;
}

Status DecodeTlvInto(ByteView input, TlvTree& tree, const TlvDecodeOptions& options) {
  tree.nodes_.clear();
  tree.source_ = {};
  tree.trailing_padding_ = {};
  if (input.size() > kTlvInputBytesMax) {
    return OutOfRange("tlv: input of " + std::to_string(input.size()) + " bytes exceeds " +
                      std::to_string(kTlvInputBytesMax));
  }
  // One allocation up front for typical EMV data (an object takes at least 2 bytes).
  tree.nodes_.reserve(std::min<std::size_t>(input.size() / 2, 64));
  Decoder decoder(input, tree.nodes_, options);
  std::uint32_t first = kTlvNoNode;
  ByteView trailing;
  Status status = decoder.DecodeRange(0, input.size(), kTlvNoNode, 0, first, trailing);
  if (!status.ok()) {
    tree.nodes_.clear();
    return status;
  }
  tree.source_ = input;
  tree.trailing_padding_ = trailing;
  return Status::Ok();
}

Result<TlvTree> DecodeTlv(ByteView input, const TlvDecodeOptions& options) {
  TlvTree tree;
  TS_RETURN_IF_ERROR(DecodeTlvInto(input, tree, options));
  return tree;
}

Status AppendTlvTree(const TlvTree& tree, Bytes& out) {
  std::size_t total = tree.trailing_padding().size();
  for (const TlvNode& root : tree.roots()) total += EncodedSize(tree.nodes(), root);
  out.reserve(out.size() + total);
  for (const TlvNode& root : tree.roots()) TS_RETURN_IF_ERROR(WriteNode(tree.nodes(), root, out));
  out.insert(out.end(), tree.trailing_padding().begin(), tree.trailing_padding().end());
  return Status::Ok();
}

Result<Bytes> EncodeTlvTree(const TlvTree& tree) {
  Bytes out;
  TS_RETURN_IF_ERROR(AppendTlvTree(tree, out));
  return out;
}

// ---- tags ---------------------------------------------------------------------------------------

std::size_t TlvTagBytes(TlvTag tag) {
  if (tag > 0xFFFFFF) return 4;
  if (tag > 0xFFFF) return 3;
  if (tag > 0xFF) return 2;
  return 1;
}

bool TlvTagIsConstructed(TlvTag tag) {
  const std::size_t bytes = TlvTagBytes(tag);
  return ((tag >> (8 * (bytes - 1))) & 0x20) != 0;
}

Status CheckTlvTag(TlvTag tag) {
  const std::size_t bytes = TlvTagBytes(tag);
  const auto byte_at = [&](std::size_t i) {
    return static_cast<std::uint8_t>(tag >> (8 * (bytes - 1 - i)));
  };
  const std::uint8_t first = byte_at(0);
  if (first == 0x00) return InvalidArgument("tag 00 is padding, not a tag");
  const bool announces_more = (first & 0x1F) == 0x1F;
  if (bytes == 1) {
    if (announces_more) {
      return InvalidArgument("tag " + TlvTagHex(tag) + " announces subsequent bytes but has none");
    }
    return Status::Ok();
  }
  if (!announces_more) {
    return InvalidArgument(
        "tag " + TlvTagHex(tag) +
        ": a multi-byte tag must start with a byte whose low five bits are 11111");
  }
  for (std::size_t i = 1; i < bytes; ++i) {
    const bool more = (byte_at(i) & 0x80) != 0;
    if (more != (i + 1 < bytes)) {
      return InvalidArgument("tag " + TlvTagHex(tag) + ": byte " + std::to_string(i + 1) +
                             (more ? " announces another byte that is missing"
                                   : " ends the tag before its last byte"));
    }
  }
  return Status::Ok();
}

std::string TlvTagHex(TlvTag tag) {
  const std::size_t bytes = TlvTagBytes(tag);
  std::uint8_t buffer[kTlvTagBytesMax];
  for (std::size_t i = 0; i < bytes; ++i) {
    buffer[i] = static_cast<std::uint8_t>(tag >> (8 * (bytes - 1 - i)));
  }
  return HexEncode(ByteView(buffer, bytes));
}

Result<TlvTag> ParseTlvTagHex(std::string_view hex) {
  Result<Bytes> bytes = HexDecode(hex);
  if (!bytes.ok()) return InvalidArgument("tag: " + bytes.status().message());
  if (bytes->empty() || bytes->size() > kTlvTagBytesMax) {
    return InvalidArgument("tag: expected 1 to " + std::to_string(kTlvTagBytesMax) +
                           " bytes, got " + std::to_string(bytes->size()));
  }
  if ((*bytes)[0] == 0x00) return InvalidArgument("tag: 00 is padding, not a tag");
  TlvTag tag = 0;
  for (std::uint8_t b : *bytes) tag = (tag << 8) | b;
  TS_RETURN_IF_ERROR(CheckTlvTag(tag));
  return tag;
}

// ---- building -----------------------------------------------------------------------------------

Status AppendTlvLength(Bytes& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
  } else if (length <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<std::uint8_t>(length));
  } else if (length <= kTlvValueBytesMax) {
    out.push_back(0x82);
    out.push_back(static_cast<std::uint8_t>(length >> 8));
    out.push_back(static_cast<std::uint8_t>(length));
  } else {
    return OutOfRange("tlv length " + std::to_string(length) + " exceeds " +
                      std::to_string(kTlvValueBytesMax));
  }
  return Status::Ok();
}

Status AppendTlv(Bytes& out, TlvTag tag, ByteView value) {
  TS_RETURN_IF_ERROR(CheckTlvTag(tag));
  if (value.size() > kTlvValueBytesMax) {
    return OutOfRange("tag " + TlvTagHex(tag) + ": value of " + std::to_string(value.size()) +
                      " bytes exceeds " + std::to_string(kTlvValueBytesMax));
  }
  const std::size_t bytes = TlvTagBytes(tag);
  for (std::size_t i = bytes; i > 0; --i)
    out.push_back(static_cast<std::uint8_t>(tag >> (8 * (i - 1))));
  TS_RETURN_IF_ERROR(AppendTlvLength(out, value.size()));
  out.insert(out.end(), value.begin(), value.end());
  return Status::Ok();
}

Result<Bytes> EncodeTlv(TlvTag tag, ByteView value) {
  Bytes out;
  out.reserve(TlvTagBytes(tag) + 3 + value.size());
  TS_RETURN_IF_ERROR(AppendTlv(out, tag, value));
  return out;
}

}  // namespace tapstack::emv
